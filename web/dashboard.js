// The dashboard: every stream with its state, ingest, bitrate, fps, health
// and viewers, kept up to date by /api/events; creating a stream (its key
// and URLs shown once), ending one, listing its recordings. Admin API:
// from loopback it needs no token; elsewhere a 401 asks for one.
import {
  $, api, ApiError, el, followEvents, formatBitrate, formatDuration, healthClass, copyText,
  onTokenForm, showMessage, STATE_LABELS, summarizeStats,
} from './api.js';
import { renderRecordings } from './recordinglinks.js';
import { thumbnailImage } from './thumbnail.js';
import { ChartBoard } from './streamcharts.js';

const streams = new Map();         // id -> the stream as the API gives it
const rows = new Map();            // id -> its <tr>
const message = $('#message');
let stopEvents = null;
const charts = new ChartBoard(8);  // the live streams' charts, a row under each

const FINISHED = new Set(['ended', 'failed']);

function needToken(text) {
  $('#token-panel').classList.remove('hidden');
  showMessage(message, text || 'This launcher needs its admin token.', 'warn');
  $('#token').focus();
}

function reportError(e, what) {
  if (e instanceof ApiError && e.status === 401) needToken();
  else showMessage(message, `${what}: ${e.message}`, 'error');
}

// --- the table ------------------------------------------------------------

function cell(name, label) {
  return el('td', { class: `col-${name}`, dataset: label ? { label } : {} });
}

function makeRow(id) {
  const tr = el('tr', { dataset: { stream: id } },
      cell('title main'), cell('state', 'State'), cell('ingest', 'Ingest'), cell('bitrate num', 'Bitrate'),
      cell('fps num', 'FPS'), cell('health', 'Health'), cell('viewers num', 'Viewers'), cell('actions main'));
  rows.set(id, tr);
  return tr;
}

// the record's ingest as people call it
const INGESTS = { whip: 'WHIP', websocket: 'WebSocket', rtmp: 'RTMP', rtmps: 'RTMPS' };

function renderRow(s) {
  const tr = rows.get(s.id) || makeRow(s.id);
  const td = (name) => tr.querySelector(`.col-${name}`);
  const live = s.state === 'live';
  const stats = live ? summarizeStats(s.stats) : null;

  td('title').replaceChildren(thumbnailImage(s),
      el('a', { class: 'title', href: `/streams/${s.id}` }, s.title || 'Untitled'),
      el('div', { class: 'muted small mono' }, s.id));
  const started = s.started_at && live ? ` · ${formatDuration((Date.now() - Date.parse(s.started_at)) / 1000)}` : '';
  td('state').replaceChildren(el('span', {}, el('span', { class: `state ${s.state}`, title: s.reason || '' },
      STATE_LABELS[s.state] || s.state), started ? el('span', { class: 'muted small' }, started) : ''));
  td('ingest').textContent = s.ingest ? (INGESTS[s.ingest] || s.ingest) : '–';
  td('bitrate').textContent = stats ? formatBitrate(stats.bitrate) : '–';
  td('fps').textContent = stats && stats.fps !== null ? stats.fps.toFixed(0) : '–';
  const health = td('health');
  if (stats) {
    const kind = healthClass(stats.health, stats.stalled);
    health.replaceChildren(el('span', { class: `health ${kind}` }, stats.stalled ? 'stalled' : `${kind} (${stats.health})`));
  } else {
    health.textContent = '–';
  }
  // once it is over, who watches watches its recording
  const viewers = s.viewers ?? 0;
  td('viewers').replaceChildren(String(viewers), viewers > 0 && (s.state === 'ended' || s.state === 'failed')
    ? el('div', { class: 'muted small' }, 'of the recording') : '');
  // only when the state changes: a button armed for "Confirm end" stays
  if (tr.dataset.state !== s.state) {
    renderActions(td('actions'), s);
    tr.dataset.state = s.state;
  }
  if (s.state === 'failed' && s.reason) td('state').append(el('div', { class: 'small health poor' }, s.reason));
}

function renderActions(td, s) {
  const finished = FINISHED.has(s.state);
  const buttons = [el('a', { class: 'button small secondary', href: `/watch/${s.id}`, target: '_blank', rel: 'noopener' }, 'Watch')];
  if (!finished) {
    buttons.push(el('a', { class: 'button small secondary', href: `/broadcast/${s.id}`, target: '_blank', rel: 'noopener' }, 'Broadcast'));
    buttons.push(el('button', { class: 'small danger end', type: 'button', onclick: (e) => confirmEnd(e.currentTarget, s.id) }, 'End'));
  } else if (s.record) {
    buttons.push(el('button', { class: 'small secondary', type: 'button', onclick: () => toggleRecordings(s.id) }, 'Recordings'));
  }
  td.replaceChildren(el('div', { class: 'actions' }, buttons));
}

// Two clicks end a stream: the first turns the button into "Confirm end"
// for a few seconds (no modal dialog).
function confirmEnd(button, id) {
  if (button.dataset.armed !== '1') {
    button.dataset.armed = '1';
    button.textContent = 'Confirm end';
    setTimeout(() => {
      if (!button.isConnected) return;
      button.dataset.armed = '';
      button.textContent = 'End';
    }, 4000);
    return;
  }
  button.disabled = true;
  api('DELETE', `/api/streams/${id}`).then(update, (e) => {
    button.disabled = false;
    reportError(e, 'Could not end the stream');
  });
}

async function toggleRecordings(id) {
  const tr = rows.get(id);
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('recordings')) {
    next.remove();
    return;
  }
  const td = el('td', { colspan: 8 }, 'Loading recordings…');
  tr.after(el('tr', { class: 'recordings', dataset: { recordingsOf: id } }, td));
  try {
    const { recordings } = await api('GET', `/api/streams/${id}/recordings`);
    if (!recordings.length) {
      td.textContent = 'No recording yet (it is written once the stream has ended).';
      return;
    }
    renderRecordings(td, id, recordings);       // the watch page plays them; the MP4 downloads
  } catch (e) {
    td.textContent = `Could not list recordings: ${e.message}`;
  }
}

// newest first, but what is on air (or about to be) at the top
function order(a, b) {
  const rank = (s) => (s.state === 'live' || s.state === 'interrupted' ? 0 : FINISHED.has(s.state) ? 2 : 1);
  return rank(a) - rank(b) || String(b.created_at).localeCompare(String(a.created_at));
}

function renderAll() {
  const list = [...streams.values()].sort(order);
  for (const s of list) renderRow(s);
  const tbody = $('#streams');
  const open = new Map([...tbody.querySelectorAll('tr.recordings')].map((r) => [r.dataset.recordingsOf, r]));
  tbody.replaceChildren(...list.flatMap((s) => [rows.get(s.id), charts.row(s), open.get(s.id)].filter(Boolean)));
  charts.draw();
  $('#no-streams').classList.toggle('hidden', list.length > 0);
}

function update(s) {
  const had = streams.get(s.id);
  // ended and failed are for good: an answer that raced an event (the
  // DELETE's 202 says "live" while the pipeline finalizes) cannot undo them
  if (had && FINISHED.has(had.state) && !FINISHED.has(s.state)) return;
  // events carry the stream without stats between stats events
  streams.set(s.id, { ...had, ...s, stats: s.stats ?? (s.state === 'live' ? had && had.stats : undefined) });
  if (!had || had.state !== s.state) renderAll();
  else renderRow(streams.get(s.id));
}

async function loadStreams() {
  const { streams: list } = await api('GET', '/api/streams');
  streams.clear();
  for (const s of list) streams.set(s.id, s);
  renderAll();
}

// --- events ---------------------------------------------------------------

function connectEvents() {
  if (stopEvents) stopEvents();
  const status = $('#connection');
  stopEvents = followEvents('/api/events', (name, data) => {
    charts.onEvent(name, data);
    const s = streams.get(data.id);
    if (name === 'state') update(data);
    else if (name === 'viewers' && s) update({ ...s, viewers: data.viewers });
    else if (name === 'stats' && s) update({ ...s, stats: data.stats });
  }, (state) => {
    status.className = `connection ${state === 'connected' ? 'ok' : 'bad'}`;
    status.textContent = { connected: 'live updates', reconnecting: 'reconnecting…', unauthorized: 'no token' }[state];
    if (state === 'connected') loadStreams().catch((e) => reportError(e, 'Could not list the streams'));
    if (state === 'unauthorized') needToken();
  });
}

// --- creating a stream ----------------------------------------------------

function showCreated(s) {
  const page = (path) => new URL(path, location.href).href;
  const watch = page(`/watch/${s.id}`);
  // the key travels in the fragment, which is never sent to a server
  const broadcast = page(`/broadcast/${s.id}#key=${encodeURIComponent(s.key)}`);
  const fields = [
    ['id', 'Stream id', s.id], ['key', 'Stream key', s.key], ['whip_url', 'WHIP URL', s.whip_url],
    ['ws_url', 'WebSocket URL', s.ws_url],
    // OBS: Server and Stream Key; ffmpeg: the whole URL (only when RTMP is on)
    ['rtmp_server', 'RTMP server (OBS)', s.rtmp_server], ['rtmp_url', 'RTMP URL (ffmpeg)', s.rtmp_url],
    ['rtmps_url', 'RTMPS URL', s.rtmps_url],
    ['playback_url', 'HLS playback', s.playback_url], ['watch', 'Watch page', watch],
  ].filter(([, , value]) => value);
  $('#created-fields').replaceChildren(...fields.flatMap(([name, label, value]) => {
    const input = el('input', { type: 'text', readonly: true, name, value, 'aria-label': label });
    const copy = el('button', { type: 'button', class: 'small secondary', onclick: async (e) => {
      const ok = await copyText(value, input);
      e.currentTarget.textContent = ok ? 'Copied' : 'Select and copy';
    } }, 'Copy');
    return [el('dt', {}, label), el('dd', {}, input, copy)];
  }));
  $('#created-title').textContent = s.title || s.id;
  $('#created-broadcast').href = broadcast;
  $('#created-watch').href = watch;
  $('#created').classList.remove('hidden');
}

$('#create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const button = $('#create');
  button.disabled = true;
  try {
    const s = await api('POST', '/api/streams', { title: $('#title').value.trim(), record: $('#record').checked });
    showMessage(message, '');
    showCreated(s);
    const { key, ...stream } = s;       // the key is never kept in the table
    update(stream);
    $('#title').value = '';
  } catch (err) {
    reportError(err, 'Could not create the stream');
  } finally {
    button.disabled = false;
  }
});

$('#created-close').addEventListener('click', () => {
  $('#created').classList.add('hidden');
  $('#created-fields').replaceChildren();     // the key leaves the page
});

onTokenForm(message, connectEvents);

// durations of live streams move on between events
setInterval(() => {
  for (const s of streams.values()) if (s.state === 'live') renderRow(s);
}, 1000);

connectEvents();
