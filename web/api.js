// What the three pages share: calls to the launcher's API (with the admin
// token when the dashboard was given one), its events stream read with
// fetch() (EventSource cannot send an Authorization header), and small
// formatting and DOM helpers. No framework: the pages are small.

const TOKEN_KEY = 'castline.adminToken';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// kept per tab (sessionStorage), asked for only when the API says 401
export function adminToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// The admin pages' token form (#token-form, #token, #token-panel): the token
// entered is kept, the panel hidden and the message box cleared, then
// then() goes on with it.
export function onTokenForm(message, then) {
  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setAdminToken($('#token').value.trim());
    $('#token').value = '';
    $('#token-panel').classList.add('hidden');
    showMessage(message, '');
    then();
  });
}

export function setAdminToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function withAuth(headers = {}) {
  const token = adminToken();
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
}

// The JSON answer, or an ApiError with the launcher's {"error"} text.
export async function api(method, path, body) {
  const opts = { method, headers: withAuth(), cache: 'no-store' };
  if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || `${res.status} ${res.statusText}`);
  return data;
}

// The public status of one stream (no token): what the broadcast and
// watch pages poll.
export function streamStatus(id) {
  return api('GET', `/api/streams/${encodeURIComponent(id)}/status`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Follows a text/event-stream, calling onEvent(name, data) for each event
// (data parsed as JSON) and onState('connected' | 'reconnecting' |
// 'unauthorized'); reconnects with a growing delay (1 s to 15 s) until the
// returned function is called. After a reconnect the caller should reload
// what it shows: events sent meanwhile are lost.
export function followEvents(path, onEvent, onState) {
  const abort = new AbortController();
  let stopped = false;
  (async () => {
    let delay = 1000;
    while (!stopped) {
      try {
        const res = await fetch(path, { headers: withAuth({ Accept: 'text/event-stream' }),
            cache: 'no-store', signal: abort.signal });
        if (res.status === 401) {
          onState('unauthorized');
          return;
        }
        if (!res.ok) throw new ApiError(res.status, res.statusText);
        onState('connected');
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, end), onEvent);
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState('reconnecting');
      await sleep(delay);
      delay = Math.min(delay * 2, 15000);
    }
  })();
  return () => {
    stopped = true;
    abort.abort();
  };
}

function dispatch(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;          // a comment: keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  try {
    onEvent(name, JSON.parse(data.join('\n')));
  } catch (e) {
    console.warn('castline: an event that is not JSON', name, e);
  }
}

// --- formatting -----------------------------------------------------------

export function formatBitrate(bitsPerSecond) {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond <= 0) return '–';
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mb/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
}

export function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

// What a person reads for a stream state.
export const STATE_LABELS = {
  created: 'Not started',
  scheduled: 'Scheduled',
  live: 'Live',
  interrupted: 'Interrupted',
  ended: 'Ended',
  failed: 'Failed',
};

// The stats of a live stream as the launcher gives them ({video, audio},
// each a viewerstats structure), summed up for one line of a table.
export function summarizeStats(stats) {
  if (!stats) return null;
  const branches = [stats.video, stats.audio].filter(Boolean);
  if (!branches.length) return null;
  const bitrate = branches.reduce((sum, b) => sum + (b.bitrate || 0), 0);
  const health = Math.min(...branches.map((b) => (Number.isFinite(b.health) ? b.health : 100)));
  const v = stats.video;
  return {
    bitrate,
    fps: v && Number.isFinite(v.fps) ? v.fps : null,
    resolution: v && v.width && v.height ? `${v.width}×${v.height}` : null,
    keyframeInterval: v && Number.isFinite(v['keyframe-interval']) ? v['keyframe-interval'] : null,
    health,
    stalled: branches.some((b) => b.stalled),
  };
}

// 'good' | 'fair' | 'poor', for a CSS class and a word next to the number
export function healthClass(health, stalled) {
  if (stalled || health < 50) return 'poor';
  if (health < 80) return 'fair';
  return 'good';
}

// --- DOM ------------------------------------------------------------------

export const $ = (selector, root = document) => root.querySelector(selector);

// el('a', {href, class: 'x', dataset: {id}}, 'text', child...): a small
// builder so no page writes HTML strings (nothing from the API is ever
// parsed as markup).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Shows a message in a page's message box (role=alert or status), or hides
// it with an empty text; kind: 'error' | 'warn' | 'info' | 'ok'.
export function showMessage(box, text, kind = 'info') {
  box.textContent = text || '';
  box.className = `message ${text ? kind : 'hidden'}`;
}

// Copies text with the Clipboard API, falling back to a selected input
// (http:// pages on another host are not a secure context).
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand('copy');
  }
}
