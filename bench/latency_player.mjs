// Players of the glass-to-glass latency benchmark (bench/latency.py): one
// hls.js player per configuration, side by side in one page (a page in the
// background gets its video frame callbacks about once a second), each
// playing the same live playlist. About every 200 ms a player copies the
// frame being shown to a canvas (in requestVideoFrameCallback, so it is the presented
// frame and its expected display time is known), reads the publisher's
// stamp (latency_stamp.js) and samples:
//   glass: display time - stamp (ms): capture to screen
//   pdt:   Date.now() - hls.playingDate (ms): ingest, as the playlist's
//          EXT-X-PROGRAM-DATE-TIME dates it, to screen
//   edge:  newest segment's end - currentTime (ms): how far behind the
//          newest segment hls.js knows the playhead is (its hold-back)
//   ahead: buffered media ahead of the playhead (ms); rate: playbackRate
//   node latency_player.mjs --url http://127.0.0.1:PORT/live/ID/index.m3u8
//        --configs '[{"name":"defaults","hls":{}}, ...]' [--warmup 10] [--seconds 45]
// Samples start --warmup s after a player's first frame and last --seconds.
// Prints one JSON line: {players: [{name, hls, visibility, samples: [[glass,
// pdt, edge, ahead, rate], ...], unread, waiting, stalledMs, bufferStalled,
// waitingWarmup, fatal, width, height, targetDuration, started}]}; glass is
// null where the stamp did not read (counted in unread).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, servePage, launch, run } from '../tests/integration/browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const hlsjs = path.join(here, '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js');
const args = parseArgs(process.argv.slice(2));
const warmup = Number(args.warmup || 10);
const seconds = Number(args.seconds || 45);
const configs = JSON.parse(args.configs || '[{"name":"defaults","hls":{}}]');

const page_html = `<!doctype html><meta charset="utf-8"><title>latency player</title>
<script src="/hls.min.js"></script>
<script src="/latency_stamp.js"></script>
<script>
// one hls.js player; its own video element, canvas and counters
const playOne = (cfg, opts) => new Promise((resolve) => {
  const v = document.createElement('video');
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
  const hls = new Hls(cfg.hls);
  let measuring = false;
  let firstFrameAt = null;
  let lastSample = 0;
  let waitingSince = null;
  let done = false;
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (d.fatal) out.fatal.push(d.type + ':' + d.details);
    else if (measuring && d.details === 'bufferStalledError') out.bufferStalled++;
  });
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
  const details = () => {
    const level = hls.levels && hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : 0];
    return level && level.details;
  };
  const sample = (displayTime) => {
    ctx.drawImage(v, 0, 0, canvas.width, canvas.height);
    const stamp = LatencyStamp.read(ctx.getImageData(0, 0, canvas.width, canvas.height));
    const shownAt = performance.timeOrigin + displayTime;
    // a black or half-decoded frame may pass the checksum by chance: only
    // stamps of the last minute count
    const plausible = stamp !== null && stamp < shownAt + 1000 && stamp > shownAt - 60000;
    if (!plausible) out.unread++;
    const date = hls.playingDate;
    const d = details();
    const ahead = v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : 0;
    out.samples.push([plausible ? shownAt - stamp : null, date ? Date.now() - date.getTime() : null,
        d ? (d.edge - v.currentTime) * 1000 : null, ahead * 1000, v.playbackRate]);
  };
  const onFrame = (now, meta) => {
    if (done) return;
    if (firstFrameAt === null) {
      firstFrameAt = now;
      out.started = performance.timeOrigin + now;
      setTimeout(() => { measuring = true; }, opts.warmup * 1000);
      setTimeout(finish, (opts.warmup + opts.seconds) * 1000);
    }
    if (measuring && now - lastSample >= 200) {
      lastSample = now;
      sample(meta.expectedDisplayTime || now);
    }
    v.requestVideoFrameCallback(onFrame);
  };
  const finish = () => {
    if (done) return;
    done = true;
    if (waitingSince !== null) out.stalledMs += performance.now() - waitingSince;
    out.width = v.videoWidth;
    out.height = v.videoHeight;
    const d = details();
    out.targetDuration = d ? d.targetduration : null;
    hls.destroy();
    resolve(out);
  };
  // a stream that never plays ends the player too
  setTimeout(() => { if (firstFrameAt === null) { out.fatal.push('no frame'); finish(); } },
      opts.bound * 1000);
  v.requestVideoFrameCallback(onFrame);
  hls.loadSource(opts.url);
  hls.attachMedia(v);
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
