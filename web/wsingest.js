// Publishes a MediaStream as MediaRecorder WebM chunks over a WebSocket to
// the launcher's /ingest/{id} (webmwssrc's protocol): a binary message per
// chunk, {"type":"stop-stream"} to end. For browsers or networks where
// WebRTC does not get through.
import { PublishError } from './publisherror.js';

const TIMESLICE_MS = 500;
const OPEN_MS = 10000;
const CLOSE_MS = 5000;
const MAX_BUFFERED = 8 * 1024 * 1024;   // a socket that falls this far behind has stalled
const FIRST_MESSAGE_MIN = 4096;         // the EBML header and the tracks, with room

// In order of preference. VP8 WebM is what Chromium records best (the
// launcher transcodes it to H.264); Matroska H.264 is passed through.
const VIDEO_TYPES = ['video/webm;codecs=vp8,opus', 'video/x-matroska;codecs=avc1,opus', 'video/webm;codecs=vp9,opus',
  'video/webm'];
const AUDIO_TYPES = ['audio/webm;codecs=opus', 'audio/webm'];

function recorderType(media) {
  const types = media.getVideoTracks().length ? VIDEO_TYPES : AUDIO_TYPES;
  const type = types.find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) throw new PublishError('media', 'This browser cannot record WebM: use WebRTC (WHIP) instead.');
  return type;
}

// WebSocket close codes and reasons the launcher sends, for a person
function closeError(code, reason) {
  if (code === 1008 && /ended|failed/.test(reason)) return new PublishError('ended', 'This stream has ended: create a new one to go live again.');
  if (code === 1008 && /limit/.test(reason)) return new PublishError('full', 'The server is at its limit of live streams: try again later.');
  if (code === 1008 && /publisher/.test(reason)) return new PublishError('busy', 'Someone is already broadcasting on this stream.');
  if (code === 1008) return new PublishError('key', `The server refused the broadcast: ${reason || 'policy'}.`);
  if (code === 1003 || code === 1009) return new PublishError('media', `The server could not read the recording: ${reason}.`);
  return new PublishError('network', `The connection to the server was lost${reason ? ` (${reason})` : ''}.`);
}

// Before the upgrade the launcher answers HTTP 401/415/400, which a
// WebSocket only reports as "closed, 1006": the same URL as a plain GET
// shows which.
async function whyRefused(url) {
  try {
    const res = await fetch(url.replace(/^ws/, 'http'), { cache: 'no-store' });
    if (res.status === 401) return new PublishError('key', 'Wrong stream id or key.');
    if (res.status === 415) return new PublishError('media', 'The server does not take what this browser records.');
    if (res.status === 400) return new PublishError('key', 'Not a stream id.');
  } catch {
    return new PublishError('network', 'The server could not be reached.');
  }
  return new PublishError('network', 'The WebSocket to the server did not open.');
}

// Resolves once the socket is open and recording runs, with {stop(),
// release(), bytesSent()}; onDrop(error) is called once if the socket closes
// without our stop.
export async function publishWebSocket({ id, key, media, onDrop }) {
  const mimeType = recorderType(media);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/ingest/${encodeURIComponent(id)}?key=${encodeURIComponent(key)}` +
      `&mimeType=${encodeURIComponent(mimeType)}`;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let stopping = false;
  let bytes = 0;

  const opened = await new Promise((resolve) => {
    ws.addEventListener('open', () => resolve(true), { once: true });
    ws.addEventListener('close', (e) => resolve(e), { once: true });
    setTimeout(() => resolve(false), OPEN_MS);
  });
  if (opened !== true) {
    ws.close();
    throw opened && opened.code !== 1006 ? closeError(opened.code, opened.reason) : await whyRefused(url);
  }

  const recorder = new MediaRecorder(media, { mimeType, videoKeyFrameIntervalDuration: 2000 });
  ws.send(JSON.stringify({ type: 'start', mimeType: recorder.mimeType }));
  // The first message must hold the whole EBML header, and Chromium's
  // first chunk is now and then only a few bytes of it: chunks are held
  // back until FIRST_MESSAGE_MIN bytes, then sent as one.
  let held = [];
  let heldBytes = 0;
  recorder.addEventListener('dataavailable', (e) => {
    if (!e.data.size || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(4000, 'the connection is too slow');
      return;
    }
    bytes += e.data.size;
    if (held) {
      held.push(e.data);
      heldBytes += e.data.size;
      if (heldBytes < FIRST_MESSAGE_MIN && recorder.state === 'recording') return;
      ws.send(new Blob(held));
      held = null;
      return;
    }
    ws.send(e.data);
  });
  const closed = new Promise((resolve) => ws.addEventListener('close', (e) => {
    if (recorder.state !== 'inactive') recorder.stop();
    if (!stopping) onDrop(closeError(e.code, e.reason));
    resolve();
  }, { once: true }));
  recorder.start(TIMESLICE_MS);

  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      if (recorder.state !== 'inactive' && ws.readyState === WebSocket.OPEN) {
        const stopped = new Promise((resolve) => recorder.addEventListener('stop', resolve, { once: true }));
        recorder.stop();
        await stopped;           // its last chunk was sent in dataavailable, before 'stop'
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'stop-stream' }));
        await Promise.race([closed, new Promise((r) => setTimeout(r, CLOSE_MS))]);
      }
      if (ws.readyState !== WebSocket.CLOSED) ws.close(1000, 'stopped');
    },
    // the stream is over already (ended elsewhere): only let go here
    release() {
      stopping = true;
      if (recorder.state !== 'inactive') recorder.stop();
      ws.close(1000, 'the stream has ended');
    },
    async bytesSent() {
      return bytes;
    },
  };
}
