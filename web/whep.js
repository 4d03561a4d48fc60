// Plays a stream over WHEP (draft-ietf-wish-whep, the playback twin of
// WHIP): one POST of a receive-only offer (video and audio) with every ICE
// candidate gathered (the launcher answers with all of its own: no trickle
// needed), the answer applied, DELETE of the session's Location to stop.
// A refusal, a failure or a connection that is not up within connectMs is
// a WhepError the caller can act on (the watch page falls back to HLS).
import { connected, gathered, watchConnection } from './peer.js';
import { reasonOf } from './publisherror.js';

const GATHER_MS = 1000;          // loopback and LAN candidates come in well under it
const CONNECT_MS = 5000;
const DISCONNECTED_MS = 3000;    // 'disconnected' may recover; a viewer falls back soon
// A 503 whose Retry-After is this short is a passing state (the stream
// just went live and its media is not known yet), not full seats: asked
// again, at most this many times.
const SHORT_RETRY_S = 2;
const SHORT_RETRIES = 3;

// Why real-time playback did not start or went on no longer. kind:
//   'full'        every WebRTC seat is taken (503; retryAfter: seconds, or null)
//   'unavailable' no such stream (404), not live (409), or WebRTC is off for it
//   'auth'        the stream asks for a token (401/403)
//   'media'       the server sends none of the codecs this browser takes (406)
//   'refused'     any other answer (status)
//   'network'     the server could not be reached
//   'timeout'     WebRTC did not connect within connectMs
//   'failed'      WebRTC failed (ICE/DTLS), or the connection was lost
export class WhepError extends Error {
  constructor(kind, message, status = null, retryAfter = null) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

function refusal(status, reason, retryAfter) {
  if (status === 503) return new WhepError('full', 'Every real-time seat is taken.', status, retryAfter);
  if (status === 404 || status === 409) return new WhepError('unavailable', `Real-time playback is not available (${reason}).`, status);
  if (status === 401 || status === 403) return new WhepError('auth', 'Real-time playback needs a token.', status);
  if (status === 406) return new WhepError('media', `This browser takes none of the stream's codecs (${reason}).`, status);
  return new WhepError('refused', `The server refused real-time playback (${status}: ${reason}).`, status);
}

function seconds(header) {
  const n = Number(header);
  return header !== null && Number.isFinite(n) && n >= 0 ? n : null;
}

// Plays `url` (a stream's whep_url) into `video`. Resolves once connected
// with {stop(), stats(), pc, location}; onEnd(WhepError) is called once if
// the connection is lost afterwards (not after stop()). onStatus(status,
// headers) sees the POST's answer, for tests and diagnostics.
export async function playWhep({ url, video, token = '', connectMs = CONNECT_MS, onEnd = () => {}, onStatus = () => {} }) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const media = new MediaStream();
  pc.addEventListener('track', (e) => {
    media.addTrack(e.track);
    if (video && video.srcObject !== media) video.srcObject = media;
  });
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  let session = null;
  let finished = false;
  let unwatch = () => {};
  const close = () => {
    finished = true;
    unwatch();
    pc.close();
  };
  // keepalive: it still goes when the page is being closed (pagehide)
  const hangUp = () => (session ? fetch(session, { method: 'DELETE', headers: auth, keepalive: true })
    .then((r) => r.status, () => null) : Promise.resolve(null));

  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_MS);
    let res;
    let body;
    for (let tries = 0; ; tries++) {
      try {
        res = await fetch(url, { method: 'POST', body: pc.localDescription.sdp, cache: 'no-store',
            headers: { 'Content-Type': 'application/sdp', ...auth } });
      } catch {
        throw new WhepError('network', 'The server could not be reached.');
      }
      body = await res.text();
      onStatus(res.status, res.headers);
      const retryAfter = seconds(res.headers.get('Retry-After'));
      if (res.status === 201) break;
      if (res.status !== 503 || retryAfter === null || retryAfter > SHORT_RETRY_S || tries >= SHORT_RETRIES) {
        throw refusal(res.status, reasonOf(body), retryAfter);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(retryAfter, 0.25) * 1000));
    }
    session = new URL(res.headers.get('Location'), new URL(url, location.href));
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    await connected(pc, connectMs).catch((e) => {
      throw e.message === 'timeout' ? new WhepError('timeout', `WebRTC did not connect within ${Math.round(connectMs / 1000)} s.`)
        : new WhepError('failed', 'WebRTC could not connect to the server.');
    });
  } catch (e) {
    hangUp();
    close();
    throw e instanceof WhepError ? e : new WhepError('failed', `WebRTC failed: ${e.message}`);
  }

  unwatch = watchConnection(pc, DISCONNECTED_MS, () => {
    if (finished) return;
    close();
    hangUp();
    onEnd(new WhepError('failed', 'The real-time connection was lost.'));
  });

  return {
    pc,
    location: session.href,
    // ends the session; the DELETE's status (null when it could not be sent)
    async stop() {
      if (finished) return null;
      close();
      return hangUp();
    },
    // the stream is over (its sessions ended by the server): only let go here
    release() {
      close();
    },
    // what the page shows: the video's decoded frames and size, and an
    // estimate of the delay behind the publisher (s): the jitter buffer
    // plus half the round trip (the publisher's own delay not included)
    async stats() {
      const out = { framesDecoded: 0, audioPackets: 0, delay: null };
      let rtt = null;
      let buffer = null;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          out.framesDecoded = s.framesDecoded || 0;
          if (s.jitterBufferEmittedCount) buffer = s.jitterBufferDelay / s.jitterBufferEmittedCount;
        } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          out.audioPackets = s.packetsReceived || 0;
        } else if (s.type === 'candidate-pair' && s.nominated && Number.isFinite(s.currentRoundTripTime)) {
          rtt = s.currentRoundTripTime;
        }
      });
      if (buffer !== null) out.delay = buffer + (rtt || 0) / 2;
      return out;
    },
  };
}
