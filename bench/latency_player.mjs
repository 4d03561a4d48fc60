// Players of the glass-to-glass latency benchmark (bench/latency.py): one
// player per configuration, side by side in one page (a page in the
// background gets its video frame callbacks about once a second), each
// playing the same live stream: with hls.js from its playlist, or with
// --whep over WebRTC (a recvonly offer POSTed to the WHEP URL,
// draft-ietf-wish-whep). About every 200 ms a player copies the frame
// being shown to a canvas (in requestVideoFrameCallback, so it is the
// presented frame and its expected display time is known), reads the
// publisher's stamp (latency_stamp.js) and samples:
//   glass: display time - stamp (ms): capture to screen
//   pdt:   Date.now() - hls.playingDate (ms): ingest, as the playlist's
//          EXT-X-PROGRAM-DATE-TIME dates it, to screen (null over WHEP)
//   edge:  newest segment's end - currentTime (ms): how far behind the
//          newest segment hls.js knows the playhead is (its hold-back;
//          null over WHEP)
//   ahead: buffered media ahead of the playhead (ms); rate: playbackRate
//   node latency_player.mjs --url http://127.0.0.1:PORT/live/ID/index.m3u8
//        --configs '[{"name":"defaults","hls":{}}, ...]' [--warmup 10] [--seconds 45]
//   node latency_player.mjs --whep http://127.0.0.1:PORT/whep/ID [--warmup 10] [--seconds 60]
// Samples start --warmup s after a player's first frame and last --seconds.
// Prints one JSON line: {players: [{name, hls, visibility, samples: [[glass,
// pdt, edge, ahead, rate], ...], unread, waiting, stalledMs, bufferStalled,
// waitingWarmup, fatal, width, height, targetDuration, started, webrtc}]};
// glass is null where the stamp did not read (counted in unread); webrtc
// (WHEP only): the POST's status, POST -> first frame (ms), and the video
// receiver's inbound-rtp stats at the end (frames decoded and dropped,
// freezes, mean jitter-buffer delay).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, servePage, launch, run } from '../tests/integration/browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const hlsjs = path.join(here, '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js');
const args = parseArgs(process.argv.slice(2));
const warmup = Number(args.warmup || 10);
const seconds = Number(args.seconds || 45);
const configs = args.whep ? [{ name: 'WHEP (WebRTC)', whep: args.whep }]
  : JSON.parse(args.configs || '[{"name":"defaults","hls":{}}]');

const page_html = `<!doctype html><meta charset="utf-8"><title>latency player</title>
<video id="rtc" controls muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script src="/latency_stamp.js"></script>
<script>
// hls.js into v: what the sampler asks of a source
function hlsSource(v, cfg, opts, out, isMeasuring) {
  const hls = new Hls(cfg.hls);
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (d.fatal) out.fatal.push(d.type + ':' + d.details);
    else if (isMeasuring() && d.details === 'bufferStalledError') out.bufferStalled++;
  });
  hls.loadSource(opts.url);
  hls.attachMedia(v);
  const details = () => {
    const level = hls.levels && hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
    return level && level.details;
  };
  return {
    playingDate: () => hls.playingDate,
    edge: () => { const d = details(); return d ? d.edge : null; },
    targetDuration: () => { const d = details(); return d ? d.targetduration : null; },
    finish: async () => hls.destroy(),
  };
}

// WHEP into v: a recvonly offer with its candidates (no trickle), POSTed
// as application/sdp; the 201's answer applied
function whepSource(v, cfg, opts, out) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();
  // play() again once there is a source: the first one, with none, is
  // aborted by the load the source starts
  pc.ontrack = (e) => {
    stream.addTrack(e.track);
    if (v.srcObject !== stream) v.srcObject = stream;
    v.play().catch(() => {});
  };
  out.webrtc = { status: null, postToFirstFrameMs: null };
  let session = null;
  const postedAt = performance.now();
  (async () => {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
      });
      setTimeout(resolve, 2000);
    });
    const r = await fetch(cfg.whep, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp });
    out.webrtc.status = r.status;
    const body = await r.text();
    if (r.status !== 201) throw new Error('POST ' + r.status + ': ' + body.slice(0, 200));
    // Location is readable only when the server exposes it (CORS)
    const location = r.headers.get('Location');
    if (location) session = new URL(location, cfg.whep).href;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
  })().catch((e) => out.fatal.push('whep:' + e.message));
  return {
    playingDate: () => null,
    edge: () => null,
    targetDuration: () => null,
    firstFrame: () => { out.webrtc.postToFirstFrameMs = Math.round(performance.now() - postedAt); },
    finish: async () => {
      const stats = await pc.getStats().catch(() => null);
      stats && stats.forEach((s) => {
        if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
        Object.assign(out.webrtc, { framesDecoded: s.framesDecoded, framesDropped: s.framesDropped,
          framesPerSecond: s.framesPerSecond, freezeCount: s.freezeCount,
          totalFreezesDuration: s.totalFreezesDuration, packetsLost: s.packetsLost,
          pliCount: s.pliCount, codec: s.decoderImplementation,
          jitterBufferMs: s.jitterBufferEmittedCount
            ? Math.round(1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount) : null });
      });
      pc.close();
      if (session) await fetch(session, { method: 'DELETE' }).catch(() => {});
    },
  };
}

// one player; its own video element, canvas and counters
const playOne = (cfg, opts) => new Promise((resolve) => {
  // over WebRTC, the page's own <video>: one a script makes stays at
  // readyState 0 in headless Chromium 156 though its frames are decoded
  // (tests/integration/browser/whep_player.mjs)
  const v = cfg.whep ? document.getElementById('rtc') : document.createElement('video');
  v.muted = true;
  v.autoplay = true;
  v.playsInline = true;
  v.width = 320;
  v.height = 240;
  document.body.append(v);
  const canvas = document.createElement('canvas');
  canvas.width = 160;
  canvas.height = 120;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const out = { name: cfg.name, hls: cfg.hls, visibility: document.visibilityState, samples: [],
      unread: 0, waiting: 0, waitingWarmup: 0, stalledMs: 0, bufferStalled: 0, fatal: [],
      started: null };
  let measuring = false;
  let firstFrameAt = null;
  let lastSample = 0;
  let waitingSince = null;
  let done = false;
  v.addEventListener('waiting', () => {
    if (firstFrameAt === null) return;
    if (!measuring) { out.waitingWarmup++; return; }
    out.waiting++;
    waitingSince = performance.now();
  });
  v.addEventListener('playing', () => {
    if (waitingSince !== null) out.stalledMs += performance.now() - waitingSince;
    waitingSince = null;
  });
  const sample = (displayTime, image) => {
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const stamp = LatencyStamp.read(ctx.getImageData(0, 0, canvas.width, canvas.height));
    const shownAt = performance.timeOrigin + displayTime;
    // a black or half-decoded frame may pass the checksum by chance: only
    // stamps of the last minute count
    const plausible = stamp !== null && stamp < shownAt + 1000 && stamp > shownAt - 60000;
    if (!plausible) out.unread++;
    const date = source.playingDate();
    const edge = source.edge();
    const ahead = v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : 0;
    out.samples.push([plausible ? shownAt - stamp : null, date ? Date.now() - date.getTime() : null,
        edge !== null ? (edge - v.currentTime) * 1000 : null, ahead * 1000, v.playbackRate]);
  };
  // a frame shown by the <video> (hls.js), or handed over by the WebRTC
  // track (image: the VideoFrame)
  const onFrame = (now, meta, image) => {
    if (done) return;
    if (firstFrameAt === null) {
      firstFrameAt = now;
      if (source.firstFrame) source.firstFrame();
      out.started = performance.timeOrigin + now;
      setTimeout(() => { measuring = true; }, opts.warmup * 1000);
      setTimeout(finish, (opts.warmup + opts.seconds) * 1000);
    }
    if (measuring && now - lastSample >= 200) {
      lastSample = now;
      sample(meta.expectedDisplayTime || now, image || v);
    }
    if (!image) v.requestVideoFrameCallback(onFrame);
  };
  const finish = () => {
    if (done) return;
    done = true;
    if (waitingSince !== null) out.stalledMs += performance.now() - waitingSince;
    out.width = out.width || v.videoWidth;
    out.height = out.height || v.videoHeight;
    out.targetDuration = source.targetDuration();
    source.finish().finally(() => resolve(out));
  };
  // a stream that never plays ends the player too
  setTimeout(() => { if (firstFrameAt === null) { out.fatal.push('no frame'); finish(); } },
      opts.bound * 1000);
  const source = (cfg.whep ? whepSource : hlsSource)(v, cfg, opts, out, () => measuring);
  v.requestVideoFrameCallback(onFrame);
  v.play().catch(() => {});
});

window.playAll = (opts) => Promise.all(opts.configs.map((cfg) => playOne(cfg, opts)));
</script>`;

async function main() {
  const { server, url } = await servePage(page_html, {
    '/hls.min.js': hlsjs,
    '/latency_stamp.js': path.join(here, 'latency_stamp.js'),
  });
  const { browser, close } = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const players = await page.evaluate((o) => window.playAll(o),
        { url: args.url, configs, warmup, seconds, bound: 30 });
    return { players };
  } finally {
    await close();
    server.close();
  }
}

run(main, (warmup + seconds + 90) * 1000);
