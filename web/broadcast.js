// The broadcast page: picks the camera (or screen) and microphone, shows a
// preview, goes live on a stream with its key over WHIP or the WebSocket
// ingest, shows the stream's state, duration, viewers and health (the
// public status, polled), and reconnects when the connection drops.
import {
  $, ApiError, el, formatBitrate, formatDuration, healthClass, showMessage, STATE_LABELS, streamStatus,
  summarizeStats,
} from './api.js';
import { PublishError } from './publisherror.js';
import { publishWhip } from './whip.js';
import { publishWebSocket } from './wsingest.js';

const POLL_MS = 2000;
const RECONNECT_WINDOW_S = 30;   // the launcher's default reconnect_window, when its status gives none
const MAX_BACKOFF_S = 10;
const FINISHED = new Set(['ended', 'failed']);

const message = $('#message');
const preview = $('#preview');
const ui = {
  id: $('#stream-id'), key: $('#stream-key'), source: $('#source'), camera: $('#camera'),
  microphone: $('#microphone'), audioOnly: $('#audio-only'), startMedia: $('#start-media'),
  goLive: $('#go-live'), stop: $('#stop'),
};

let media = null;          // the MediaStream previewed and sent
let publisher = null;      // {stop, bytesSent} while connected
let phase = 'idle';        // idle | starting | live | reconnecting | done
let liveSince = null;
let lastStatus = null;
let dropSince = null;
let attempts = 0;
let reconnectTimer = null;
let lastBytes = null;

// --- the stream id and key ------------------------------------------------

function readAddress() {
  const m = location.pathname.match(/^\/broadcast\/([^/]+)/);
  if (m) ui.id.value = decodeURIComponent(m[1]);
  // the dashboard hands the key in the fragment, which no server sees;
  // it leaves the address bar (and the history) at once
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (key) {
    ui.key.value = key;
    history.replaceState(null, '', location.pathname + location.search);
  } else if (streamId()) {
    ui.key.value = sessionStorage.getItem(keyStore(streamId())) || '';
  }
}

const streamId = () => ui.id.value.trim();
const keyStore = (id) => `castline.key.${id}`;

// --- camera, microphone, screen ---------------------------------------------

function mediaError(e) {
  if (e.name === 'NotAllowedError' || e.name === 'SecurityError') {
    return 'Camera or microphone access was refused. Allow it for this site (the icon in the address bar), then press “Start camera” again.';
  }
  if (e.name === 'NotFoundError' || e.name === 'OverconstrainedError') {
    return 'No camera or microphone was found. Plug one in, or choose “Audio only” or “Screen or window”.';
  }
  if (e.name === 'NotReadableError') return 'The camera or microphone is in use by another application.';
  if (e.name === 'AbortError' && ui.source.value === 'screen') return 'Screen sharing was cancelled.';
  return `The camera or microphone could not be opened (${e.name}: ${e.message}).`;
}

async function openMedia() {
  const audio = ui.microphone.value ? { deviceId: { exact: ui.microphone.value } } : true;
  if (ui.audioOnly.checked) return navigator.mediaDevices.getUserMedia({ audio, video: false });
  if (ui.source.value === 'screen') {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
    try {
      const mic = await navigator.mediaDevices.getUserMedia({ audio, video: false });
      return new MediaStream([...screen.getVideoTracks(), ...mic.getAudioTracks()]);
    } catch (e) {
      screen.getTracks().forEach((t) => t.stop());
      throw e;
    }
  }
  const video = { width: { ideal: 1280 }, height: { ideal: 720 } };
  if (ui.camera.value) video.deviceId = { exact: ui.camera.value };
  return navigator.mediaDevices.getUserMedia({ audio, video });
}

// Device names are only given once the page has permission.
async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (select, kind, fallback) => {
    const chosen = select.value;
    const list = devices.filter((d) => d.kind === kind && d.deviceId);
    select.replaceChildren(el('option', { value: '' }, fallback),
        ...list.map((d, i) => el('option', { value: d.deviceId }, d.label || `${fallback} ${i + 1}`)));
    select.value = list.some((d) => d.deviceId === chosen) ? chosen : '';
  };
  fill(ui.camera, 'videoinput', 'Default camera');
  fill(ui.microphone, 'audioinput', 'Default microphone');
}

function stopMedia() {
  if (media) media.getTracks().forEach((t) => t.stop());
  media = null;
  preview.srcObject = null;
}

// Opens (or reopens, after a change of device) what is previewed; false
// with the reason shown when it cannot.
async function startMedia() {
  stopMedia();
  try {
    media = await openMedia();
  } catch (e) {
    showMessage(message, mediaError(e), 'error');
    $('#preview-note').textContent = 'No camera';
    $('#preview-note').classList.remove('hidden');
    return false;
  }
  preview.srcObject = media;
  const note = $('#preview-note');
  note.textContent = 'Audio only: the microphone is on';
  note.classList.toggle('hidden', media.getVideoTracks().length > 0);
  // a screen share ended from the browser's own "Stop sharing" bar
  for (const t of media.getVideoTracks()) {
    t.addEventListener('ended', () => {
      if (phase === 'live' || phase === 'starting') stop('Screen sharing stopped, so the broadcast stopped.');
    });
  }
  ui.startMedia.textContent = 'Restart camera';
  if (message.classList.contains('error')) showMessage(message, '');
  fillDevices().catch(() => {});
  return true;
}

// --- going live -----------------------------------------------------------

function setPhase(next) {
  phase = next;
  const busy = next === 'starting' || next === 'live' || next === 'reconnecting';
  ui.goLive.classList.toggle('hidden', busy);
  ui.stop.classList.toggle('hidden', !busy);
  for (const input of [ui.id, ui.key, ui.source, ui.camera, ui.microphone, ui.audioOnly, ui.startMedia,
    ...document.querySelectorAll('input[name="ingest"]')]) input.disabled = busy;
  renderState();
}

const ingest = () => document.querySelector('input[name="ingest"]:checked').value;

async function connect() {
  const publish = ingest() === 'whip' ? publishWhip : publishWebSocket;
  publisher = await publish({ id: streamId(), key: ui.key.value, media, onDrop });
  phase === 'done' ? publisher.stop() : goneLive();
}

function goneLive() {
  sessionStorage.setItem(keyStore(streamId()), ui.key.value);
  liveSince = liveSince || Date.now();
  dropSince = null;
  attempts = 0;
  lastBytes = null;
  showMessage(message, 'You are live.', 'ok');
  setPhase('live');
  poll();
}

async function goLive() {
  if (!streamId() || !ui.key.value) {
    showMessage(message, 'Enter the stream id and its key (from the dashboard) first.', 'warn');
    (streamId() ? ui.key : ui.id).focus();
    return;
  }
  if (!media && !(await startMedia())) return;
  setPhase('starting');
  showMessage(message, 'Connecting…', 'info');
  try {
    await connect();
  } catch (e) {
    failed(e);
  }
}

// What a refused or failed attempt leads to: a final message, or (while
// reconnecting, for what may pass) another attempt.
function failed(e) {
  publisher = null;
  if (phase === 'done') return;
  const transient = e instanceof PublishError && ['network', 'busy', 'full'].includes(e.kind);
  if (phase === 'reconnecting' && transient) {
    scheduleReconnect(e.message);
    return;
  }
  finish(e.message, e instanceof PublishError && e.kind === 'ended' ? 'warn' : 'error');
}

// The publisher lost its connection without our stop.
async function onDrop(e) {
  publisher = null;
  if (phase === 'done') return;
  dropSince = dropSince || Date.now();
  setPhase('reconnecting');
  const status = await streamStatus(streamId()).catch(() => null);
  if (status && FINISHED.has(status.state)) {
    finish('The stream has ended.', 'warn');
    return;
  }
  scheduleReconnect(e.message);
}

// Tries again after 1, 2, 4 … 10 s, within the stream's reconnect window,
// counting down on the page.
function scheduleReconnect(reason) {
  const windowS = (lastStatus && lastStatus.reconnect_window) || RECONNECT_WINDOW_S;
  const elapsed = (Date.now() - dropSince) / 1000;
  if (elapsed >= windowS) {
    finish(`${reason} Could not reconnect within ${windowS} s: the broadcast has stopped.`, 'error');
    return;
  }
  let left = Math.min(2 ** attempts, MAX_BACKOFF_S, Math.ceil(windowS - elapsed));
  attempts++;
  const tick = () => {
    if (phase !== 'reconnecting') return;
    if (left <= 0) {
      showMessage(message, `${reason} Reconnecting…`, 'warn');
      connect().catch(failed);
      return;
    }
    showMessage(message, `${reason} Reconnecting in ${left} s…`, 'warn');
    left--;
    reconnectTimer = setTimeout(tick, 1000);
  };
  tick();
}

// The end of this page's broadcast, with why: the stream is over (or
// cannot be joined), so the publisher is let go without ending anything.
function finish(text, kind) {
  clearTimeout(reconnectTimer);
  if (publisher) publisher.release();
  publisher = null;
  sessionStorage.removeItem(keyStore(streamId()));
  liveSince = null;
  setPhase('done');
  showMessage(message, text, kind);
  poll();
}

async function stop(text) {
  clearTimeout(reconnectTimer);
  const p = publisher;
  publisher = null;
  setPhase('done');
  liveSince = null;
  showMessage(message, 'Stopping…', 'info');
  if (p) await p.stop();
  sessionStorage.removeItem(keyStore(streamId()));
  showMessage(message, text || 'Broadcast stopped. The stream has ended.', 'info');
  poll();
}

// --- status -----------------------------------------------------------------

function renderState() {
  const label = {
    starting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…',
  }[phase] || (lastStatus ? STATE_LABELS[lastStatus.state] || lastStatus.state : 'Offline');
  const cls = phase === 'live' ? 'live' : phase === 'reconnecting' ? 'interrupted' : lastStatus ? lastStatus.state : '';
  $('#state').replaceChildren(el('span', { class: `state ${phase === 'starting' ? '' : cls}` }, label));
}

async function poll() {
  const id = streamId();
  if (!id) return;
  let status;
  try {
    status = await streamStatus(id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && phase !== 'live') {
      lastStatus = null;
      renderState();
      if (phase === 'idle') showMessage(message, `There is no stream “${id}”: check the id on the dashboard.`, 'warn');
    }
    return;
  }
  if (id !== streamId()) return;
  lastStatus = status;
  // ended elsewhere (the dashboard, the server): this page stops too
  if (FINISHED.has(status.state) && (phase === 'live' || phase === 'reconnecting')) {
    finish(status.state === 'failed' ? `The stream failed: ${status.reason || 'on the server'}.`
      : 'The stream was ended (from the dashboard or by the server).', 'warn');
    return;
  }
  if (phase === 'idle' && FINISHED.has(status.state)) {
    showMessage(message, 'This stream has ended: create a new one on the dashboard to go live again.', 'warn');
  }
  renderState();
  $('#viewers').textContent = String(status.viewers ?? 0);
  const stats = status.state === 'live' ? summarizeStats(status.stats) : null;
  if (stats) {
    const kind = healthClass(stats.health, stats.stalled);
    $('#health').replaceChildren(el('span', { class: `health ${kind}` }, stats.stalled ? 'stalled' : `${kind} (${stats.health})`),
        el('div', { class: 'small muted' }, [formatBitrate(stats.bitrate), stats.fps !== null ? `${stats.fps.toFixed(0)} fps` : null,
          stats.resolution].filter(Boolean).join(' · ')));
  } else {
    $('#health').textContent = '–';
  }
}

async function showSending() {
  if (!publisher) {
    $('#sending').textContent = '–';
    return;
  }
  const bytes = await publisher.bytesSent();
  const now = Date.now();
  if (lastBytes) $('#sending').textContent = formatBitrate(((bytes - lastBytes.bytes) * 8000) / (now - lastBytes.at));
  lastBytes = { bytes, at: now };
}

setInterval(() => {
  $('#duration').textContent = liveSince ? formatDuration((Date.now() - liveSince) / 1000)
    : lastStatus && lastStatus.state === 'live' && lastStatus.started_at
      ? formatDuration((Date.now() - Date.parse(lastStatus.started_at)) / 1000) : '–';
}, 500);
setInterval(() => {
  poll();
  showSending().catch(() => {});
}, POLL_MS);

// --- wiring -----------------------------------------------------------------

ui.startMedia.addEventListener('click', startMedia);
ui.goLive.addEventListener('click', goLive);
ui.stop.addEventListener('click', () => stop());
for (const input of [ui.source, ui.camera, ui.microphone, ui.audioOnly]) {
  input.addEventListener('change', () => {
    $('#camera-field').classList.toggle('hidden', ui.source.value === 'screen' || ui.audioOnly.checked);
    if (media) startMedia();
  });
}
ui.id.addEventListener('change', () => {
  lastStatus = null;
  if (phase === 'done') setPhase('idle');
  showMessage(message, '');
  poll();
});
// a new attempt after a final message: the page is ready again
ui.key.addEventListener('input', () => {
  if (phase === 'done') setPhase('idle');
});
// Leaving while live asks first. A tab that goes anyway drops the
// connection without a stop: the stream waits its reconnect window, and
// this tab, reloaded, has the key still (sessionStorage: this tab only).
window.addEventListener('beforeunload', (e) => {
  if (phase === 'live' || phase === 'reconnecting') e.preventDefault();
});

readAddress();
setPhase('idle');
poll();
// with a permission given before, the preview starts by itself
navigator.permissions?.query({ name: 'camera' }).then((p) => {
  if (p.state === 'granted' && !media) startMedia();
}, () => {});
