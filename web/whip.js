// Publishes a MediaStream over WHIP (RFC 9725) to the launcher that served
// the page: one POST of the offer with every ICE candidate gathered (the
// launcher answers with all of its own: no trickle needed), DELETE of the
// session's Location to stop. The launcher picks the codec (H.264 when
// offered, so nothing is re-encoded).
import { connected, gathered, watchConnection } from './peer.js';
import { PublishError, reasonOf } from './publisherror.js';

const GATHER_MS = 2000;          // loopback and LAN candidates come in well under it
const CONNECT_MS = 15000;
const DISCONNECTED_MS = 5000;    // 'disconnected' often recovers by itself

function refusal(status, reason) {
  if (status === 401 || status === 403 || status === 404) return new PublishError('key', 'Wrong stream id or key.');
  if (status === 409) {
    return /ended|failed/.test(reason) ? new PublishError('ended', 'This stream has ended: create a new one to go live again.')
      : new PublishError('busy', 'Someone is already broadcasting on this stream.');
  }
  if (status === 503) return new PublishError('full', 'The server is at its limit of live streams: try again later.');
  if (status === 406) return new PublishError('media', `The server takes none of the codecs this browser sends (${reason}).`);
  return new PublishError('network', `The server refused the broadcast (${status}: ${reason}).`);
}

// Resolves once the peer connection is up with {stop(), release(), bytesSent()};
// onDrop(error) is called once if the connection is lost afterwards.
export async function publishWhip({ id, key, media, onDrop }) {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  const auth = { Authorization: `Bearer ${key}` };
  let session = null;
  let finished = false;
  let unwatch = () => {};
  const close = () => {
    finished = true;
    unwatch();
    pc.close();
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_MS);
    let res;
    try {
      res = await fetch(`/whip/${encodeURIComponent(id)}`, { method: 'POST', body: pc.localDescription.sdp,
          headers: { 'Content-Type': 'application/sdp', ...auth } });
    } catch {
      throw new PublishError('network', 'The server could not be reached.');
    }
    const body = await res.text();
    if (res.status !== 201) throw refusal(res.status, reasonOf(body));
    session = new URL(res.headers.get('Location'), location.href);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    await connected(pc, CONNECT_MS).catch((e) => {
      throw new PublishError('network', e.message === 'timeout' ? 'WebRTC did not connect within 15 s.'
        : 'WebRTC could not connect to the server (ICE failed).');
    });
  } catch (e) {
    if (session) fetch(session, { method: 'DELETE', headers: auth }).catch(() => {});
    close();
    throw e instanceof PublishError ? e : new PublishError('network', `WebRTC failed: ${e.message}`);
  }

  unwatch = watchConnection(pc, DISCONNECTED_MS, () => {
    if (finished) return;
    close();
    onDrop(new PublishError('network', 'The connection to the server was lost.'));
  });

  return {
    async stop() {
      if (finished) return;
      close();
      // ends the stream for good (not a drop: no reconnect window)
      await fetch(session, { method: 'DELETE', headers: auth }).catch(() => {});
    },
    // the stream is over already (ended elsewhere): only let go here
    release() {
      close();
    },
    async bytesSent() {
      let bytes = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp') bytes += s.bytesSent || 0;
      });
      return bytes;
    },
  };
}
