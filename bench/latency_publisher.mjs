// Publisher of the glass-to-glass latency benchmark (bench/latency.py): a
// 640x480 canvas repainted 30 times a second with the time it is painted
// (performance.timeOrigin + performance.now(), ms) as latency_stamp.js's
// pattern, each paint captured as one frame (captureStream(0) +
// requestFrame(), so a frame's stamp is its capture time), plus Chromium's
// fake microphone, sent over WHIP (ICE gathered first, Chromium's own
// offer: the launcher answers with H.264 alone).
//   WHIP_KEY=<stream key> node latency_publisher.mjs --url http://127.0.0.1:PORT/whip/ID
//        [--max-seconds 600]
// The stream key comes from the environment, not the command line (which
// other users can read). Publishes until its stdin closes (or --max-seconds),
// then DELETEs the session and prints one JSON line: {status, connected,
// codec, encoder, framesPainted, framesEncoded, keyFramesEncoded, pliCount, firCount,
// width, height, bytesSent, qualityLimitation, deleteStatus, error}.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, servePage, launch, run } from '../tests/integration/browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
const maxSeconds = Number(args['max-seconds'] || 600);

const page_html = `<!doctype html><meta charset="utf-8"><title>latency publisher</title>
<script src="/latency_stamp.js"></script>
<canvas id="c" width="640" height="480"></canvas>
<script>
let pc = null;
let mic = null;
let timer = null;
let painted = 0;
let location_ = null;
let key_ = null;
let url_ = null;

window.start = async (opts) => {
  const out = {};
  key_ = opts.key;
  url_ = opts.url;
  const canvas = document.getElementById('c');
  const ctx = canvas.getContext('2d');
  const stream = canvas.captureStream(0);
  const [track] = stream.getVideoTracks();
  const paint = () => {
    LatencyStamp.paint(ctx, canvas.width, canvas.height, performance.timeOrigin + performance.now());
    track.requestFrame();
    painted++;
  };
  paint();
  timer = setInterval(paint, 1000 / 30);
  mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc = new RTCPeerConnection();
  pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  pc.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
    setTimeout(resolve, 3000);
  });
  const res = await fetch(url_, { method: 'POST', body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + key_ } });
  out.status = res.status;
  location_ = res.headers.get('Location');
  const answer = await res.text();
  if (res.status !== 201) { out.error = answer.slice(0, 200); return out; }
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  out.connected = await new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve(true);
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') resolve(true);
      if (pc.connectionState === 'failed') resolve(false);
    });
    setTimeout(() => resolve(false), 10000);
  });
  return out;
};

window.finish = async () => {
  const out = { framesPainted: painted };
  clearInterval(timer);
  if (!pc) return out;
  const stats = await pc.getStats();
  const codecs = {};
  stats.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  stats.forEach((s) => {
    if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
    Object.assign(out, { codec: codecs[s.codecId], encoder: s.encoderImplementation,
        framesEncoded: s.framesEncoded, keyFramesEncoded: s.keyFramesEncoded,
        pliCount: s.pliCount, firCount: s.firCount, width: s.frameWidth, height: s.frameHeight,
        bytesSent: s.bytesSent, qualityLimitation: s.qualityLimitationReason });
  });
  if (location_) {
    const del = await fetch(new URL(location_, new URL(url_)), { method: 'DELETE',
        headers: { 'Authorization': 'Bearer ' + key_ } });
    out.deleteStatus = del.status;
  }
  pc.close();
  mic.getTracks().forEach((t) => t.stop());
  return out;
};
</script>`;

// Resolves when stdin closes (the benchmark is done) or after `seconds`.
function stdinClosed(seconds) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    process.stdin.on('end', () => { clearTimeout(timer); resolve(); });
    process.stdin.on('error', () => { clearTimeout(timer); resolve(); });
    process.stdin.resume();
  });
}

async function main() {
  const { server, url } = await servePage(page_html,
      { '/latency_stamp.js': path.join(here, 'latency_stamp.js') });
  const { browser, close } = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const started = await page.evaluate((o) => window.start(o),
        { url: args.url, key: process.env.WHIP_KEY || '' });
    if (started.connected) await stdinClosed(maxSeconds);
    return Object.assign(started, await page.evaluate(() => window.finish()));
  } finally {
    await close();
    server.close();
  }
}

run(main, (maxSeconds + 60) * 1000);
