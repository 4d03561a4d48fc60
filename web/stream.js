// A stream's page (/streams/{id}, admin): its state, ingest, codecs and
// URLs (never its key), its recordings, and large charts of its last 15
// minutes, all from /api/streams/{id}/events (the state, then the history,
// then what changes). Admin API as the dashboard: from loopback no token;
// elsewhere a 401 asks for one, kept in the tab's sessionStorage.
import {
  $, api, ApiError, el, followEvents, formatBitrate, formatDuration, formatTime, healthClass,
  onTokenForm, showMessage, STATE_LABELS, summarizeStats,
} from './api.js';
import { renderRecordings } from './recordinglinks.js';
import { applyEvent, StreamCharts, StreamSeries } from './streamcharts.js';

const streamId = decodeURIComponent((location.pathname.match(/^\/streams\/([^/]+)/) || [])[1] || '');
const message = $('#message');
const series = new StreamSeries(streamId);
let charts = null;
let stream = null;
let stopEvents = null;
let recordingsShown = false;

const INGESTS = { whip: 'WHIP', websocket: 'WebSocket', rtmp: 'RTMP', rtmps: 'RTMPS', srt: 'SRT' };

function needToken(text) {
  $('#token-panel').classList.remove('hidden');
  showMessage(message, text || 'This launcher needs its admin token.', 'warn');
  $('#token').focus();
}

function fact(label, ...value) {
  return [el('dt', {}, label), el('dd', {}, ...value)];
}

function link(url, text = url) {
  return el('a', { href: url, target: '_blank', rel: 'noopener', class: 'mono' }, text);
}

function codecOf(branch) {
  if (!branch) return null;
  const size = branch.width && branch.height ? ` ${branch.width}×${branch.height}` : '';
  const fps = Number.isFinite(branch.fps) && branch.width ? ` · ${branch.fps.toFixed(0)} fps` : '';
  return `${branch.codec || '?'}${size}${fps}`;
}

function render() {
  const s = stream;
  if (!s) return;
  document.title = `castline · ${s.title || s.id}`;
  $('#title').textContent = s.title || 'Untitled';
  const state = $('#state');
  state.className = `state ${s.state}`;
  state.textContent = STATE_LABELS[s.state] || s.state;
  state.title = s.reason || '';
  const live = s.state === 'live';
  const finished = s.state === 'ended' || s.state === 'failed';
  $('#watch-link').href = `/watch/${s.id}`;
  $('#broadcast-link').href = `/broadcast/${s.id}`;
  $('#broadcast-link').classList.toggle('hidden', finished);

  const sum = live ? summarizeStats(s.stats) : null;
  const since = s.started_at ? (finished && s.ended_at ? Date.parse(s.ended_at) : Date.now()) - Date.parse(s.started_at) : NaN;
  const facts = [
    fact('Stream id', el('span', { class: 'mono' }, s.id)),
    fact('State', STATE_LABELS[s.state] || s.state, s.reason ? el('div', { class: 'small muted' }, s.reason) : ''),
    fact('Ingest', s.ingest ? (INGESTS[s.ingest] || s.ingest) : '–'),
    fact('Pipeline', s.pipeline || 'chosen by the publisher\'s codecs'),
    fact('Recorded', s.record ? 'yes' : 'no'),
    fact('Created', formatTime(s.created_at)),
    s.scheduled_at ? fact('Scheduled', formatTime(s.scheduled_at)) : [],
    s.started_at ? fact('Started', formatTime(s.started_at)) : [],
    s.ended_at ? fact('Ended', formatTime(s.ended_at)) : [],
    Number.isFinite(since) ? fact(finished ? 'Lasted' : 'On air for', formatDuration(since / 1000)) : [],
    fact('Viewers', `${s.viewers ?? 0}`, s.webrtc_seats ? el('span', { class: 'muted small' },
        ` (${s.webrtc_viewers ?? 0} of ${s.webrtc_seats} real-time seats)`) : ''),
    sum ? fact('Video', codecOf(s.stats.video) || '–') : [],
    sum ? fact('Audio', codecOf(s.stats.audio) || '–') : [],
    sum ? fact('Bitrate', formatBitrate(sum.bitrate)) : [],
    sum ? fact('Health', el('span', { class: `health ${healthClass(sum.health, sum.stalled)}` },
        sum.stalled ? 'stalled' : `${healthClass(sum.health, sum.stalled)} (${sum.health})`)) : [],
    s.node ? fact('Node', s.node) : [],
  ];
  $('#facts').replaceChildren(...facts.flat());

  // what the API gives: the ingest servers without the key
  const urls = [
    ['Watch page', new URL(`/watch/${s.id}`, location.href).href],
    ['HLS playback', s.playback_url], ['WebRTC playback (WHEP)', finished ? null : s.whep_url],
    ['WHIP', finished ? null : s.whip_url], ['WebSocket', finished ? null : s.ws_url],
    ['RTMP server', finished ? null : s.rtmp_server], ['RTMPS server', finished ? null : s.rtmps_server],
    ['SRT server', finished ? null : s.srt_server],
  ].filter(([, url]) => url);
  $('#urls').replaceChildren(...urls.flatMap(([label, url]) => fact(label, link(url))));

  if (finished && s.record && !recordingsShown) {
    recordingsShown = true;
    showRecordings(s.id);
  }
}

// A recording is written after the stream ends: asked again every 3 s
// for a minute until it is listed.
async function showRecordings(id, attempt = 0) {
  const panel = $('#recordings-panel');
  const box = $('#recordings');
  panel.classList.remove('hidden');
  if (!attempt) box.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  try {
    const { recordings } = await api('GET', `/api/streams/${encodeURIComponent(id)}/recordings`);
    if (!recordings.length) {
      box.replaceChildren(el('p', { class: 'muted' }, 'No recording yet (it is written once the stream has ended).'));
      if (attempt < 20) setTimeout(() => showRecordings(id, attempt + 1), 3000);
      return;
    }
    renderRecordings(box, id, recordings);      // as the dashboard lists them
  } catch (e) {
    box.replaceChildren(el('p', { class: 'health poor' }, `Could not list recordings: ${e.message}`));
  }
}

// an empty chart says nothing: a line instead, until there is something
function showCharts() {
  const empty = !series.t.length && !series.marks.length;
  $('#charts').classList.toggle('hidden', empty);
  $('#charts-empty').classList.toggle('hidden', !empty);
}

function onEvent(name, data) {
  if (data.id !== streamId) return;
  applyEvent(series, name, data);
  if (name === 'state') stream = { ...data, stats: data.stats ?? (data.state === 'live' && stream ? stream.stats : undefined) };
  else if (name === 'stats' && stream) stream.stats = data.stats;
  else if (name === 'viewers' && stream) stream.viewers = data.viewers;
  if (charts && name !== 'viewers') charts.update();
  showCharts();
  render();
}

function follow() {
  if (stopEvents) stopEvents();
  const status = $('#connection');
  stopEvents = followEvents(`/api/streams/${encodeURIComponent(streamId)}/events`, onEvent, (state) => {
    status.className = `connection ${state === 'connected' ? 'ok' : 'bad'}`;
    status.textContent = { connected: 'live updates', reconnecting: 'reconnecting…', unauthorized: 'no token' }[state];
    if (state === 'unauthorized') needToken();
  });
}

async function start() {
  if (!streamId) {
    showMessage(message, 'No stream id in the address.', 'error');
    return;
  }
  try {
    stream = await api('GET', `/api/streams/${encodeURIComponent(streamId)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) needToken();
    else if (e instanceof ApiError && e.status === 404) showMessage(message, `There is no stream ${streamId}.`, 'error');
    else showMessage(message, `Could not load the stream: ${e.message}`, 'error');
    return;
  }
  $('#content').classList.remove('hidden');
  render();
  if (!charts) charts = new StreamCharts($('#charts'), series, 'large');
  showCharts();
  follow();
}

onTokenForm(message, start);

// the time on air moves on between events
setInterval(() => {
  if (stream && stream.state === 'live') render();
}, 1000);

start();
