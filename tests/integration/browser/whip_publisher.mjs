// Publishes Chromium's fake camera and microphone over WHIP (RFC 9725):
//   node whip_publisher.mjs --url http://127.0.0.1:8080/whip/ID --key KEY
//        [--seconds 8] [--codec h264|vp8] [--audio-only] [--trickle]
//        [--camera 1280x720] [--scales 4@0,1@6]
// Without --codec the offer is Chromium's own (VP8 first, then H.264, VP9,
// AV1); with it, the video m-line offers that codec alone (H.264:
// packetization-mode=1). POSTs the offer (ICE gathered first), applies the
// answer, sends media for
// --seconds once connected, then DELETEs the session. Prints one JSON line:
// {status, location, links, answerHasCandidates, connected, deleteStatus,
// error, postedAt, answeredAt, connectedAt (Date.now() of the POST, of its
// answer, of the connection: for bench/startup.py)}; with --trickle also
// patchStatus (candidates PATCHed) and restartStatus (a PATCH with a new
// ufrag: an ICE restart). --camera sizes the fake camera (default 640x480);
// --scales sets the video's scaleResolutionDownBy to each value at the
// seconds after the connection given (0: from the start), resolution kept
// whatever the bandwidth or CPU (degradationPreference
// maintain-resolution), and adds sizes: the encoder's frameWidth x
// frameHeight each second.
import { parseArgs, evaluateInPage, run } from './chromium.mjs';

const args = parseArgs(process.argv.slice(2));
const page_html = `<!doctype html><meta charset="utf-8"><title>whip</title>
<script>
window.publish = async (opts) => {
  const out = {};
  const stream = await navigator.mediaDevices.getUserMedia(
      { audio: true, video: opts.audioOnly ? false :
          { width: opts.camera[0], height: opts.camera[1] } });
  const pc = new RTCPeerConnection();
  let videoSender = null;
  for (const track of stream.getTracks()) {
    const init = { direction: 'sendonly' };
    if (track.kind === 'video' && opts.scales.length)
      init.sendEncodings = [{ scaleResolutionDownBy: opts.scales[0][1] }];
    const t = pc.addTransceiver(track, init);
    if (track.kind === 'video') videoSender = t.sender;
    if (track.kind === 'video' && opts.codec) {
      const mime = 'video/' + (opts.codec === 'h264' ? 'H264' : opts.codec.toUpperCase());
      const caps = RTCRtpSender.getCapabilities('video').codecs;
      const preferred = caps.filter((c) => c.mimeType === mime &&
          (opts.codec !== 'h264' || /packetization-mode=1/.test(c.sdpFmtpLine || '')));
      t.setCodecPreferences(preferred);
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, 3000);
  });
  out.postedAt = Date.now();
  const res = await fetch(opts.url, { method: 'POST', body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + opts.key } });
  out.answeredAt = Date.now();
  out.status = res.status;
  out.location = res.headers.get('Location');
  const answer = await res.text();
  if (res.status !== 201) { out.error = answer; return out; }
  out.answerHasCandidates = /a=candidate:/.test(answer);
  out.links = res.headers.get('Link');
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  if (opts.trickle) {
    // RFC 8840 fragment of our own candidates (already in the offer: a
    // repeat is harmless), then one with a new ufrag: an ICE restart
    const sdp = pc.localDescription.sdp;
    const line = (re) => (sdp.match(re) || [])[0];
    const mid = line(/^a=mid:.*$/m);
    const frag = [line(/^a=ice-ufrag:.*$/m), line(/^a=ice-pwd:.*$/m), 'm=audio 9 UDP/TLS/RTP/SAVPF 0',
        mid, ...(sdp.match(/^a=candidate:.*$/mg) || []).slice(0, 2), 'a=end-of-candidates', ''].join('\\r\\n');
    const patch = (body) => fetch(new URL(out.location, new URL(opts.url)), { method: 'PATCH', body,
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*',
            'Authorization': 'Bearer ' + opts.key } });
    out.patchStatus = (await patch(frag)).status;
    out.restartStatus = (await patch('a=ice-ufrag:n3wU\\r\\na=ice-pwd:n3wpassword0123456789012\\r\\n' +
        'm=audio 9 UDP/TLS/RTP/SAVPF 0\\r\\n' + mid + '\\r\\n')).status;
  }
  out.connected = await new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve(true);
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') { out.connectedAt = Date.now(); resolve(true); }
      if (pc.connectionState === 'failed') resolve(false);
    });
    setTimeout(() => resolve(false), 10000);
  });
  if (out.connected && opts.scales.length) {
    const params = videoSender.getParameters();
    params.degradationPreference = 'maintain-resolution';
    await videoSender.setParameters(params);
    out.sizes = [];
    const timers = opts.scales.filter(([at]) => at > 0).map(([at, by]) => setTimeout(async () => {
      const p = videoSender.getParameters();
      p.encodings[0].scaleResolutionDownBy = by;
      await videoSender.setParameters(p);
    }, at * 1000));
    const sample = setInterval(async () => {
      (await videoSender.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.frameWidth) out.sizes.push(s.frameWidth + 'x' + s.frameHeight);
      });
    }, 1000);
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    timers.forEach(clearTimeout);
    clearInterval(sample);
  } else if (out.connected) {
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  }
  const stats = await pc.getStats();
  stats.forEach((s) => { if (s.type === 'outbound-rtp') out[s.kind + 'BytesSent'] = s.bytesSent; });
  const base = new URL(opts.url);
  const del = await fetch(new URL(out.location, base), { method: 'DELETE',
      headers: { 'Authorization': 'Bearer ' + opts.key } });
  out.deleteStatus = del.status;
  pc.close();
  stream.getTracks().forEach((t) => t.stop());
  return out;
};
</script>`;

run(() => evaluateInPage(page_html, 'publish', {
      url: args.url, key: args.key, seconds: Number(args.seconds || 8),
      codec: args.codec || null, audioOnly: !!args['audio-only'], trickle: !!args.trickle,
      camera: (args.camera || '640x480').split('x').map(Number),
      scales: (args.scales ? args.scales.split(',') : []).map((s) => s.split('@').reverse().map(Number)),
    }), 90000);
