// Plays an HLS URL in Chromium with hls.js (or the page's own player when
// it has none) and reports whether playback advances:
//   node hls_player.mjs --url http://127.0.0.1:8080/live/ID/index.m3u8 [--seconds 5]
// Prints one JSON line: {advanced, currentTime, videoWidth, videoHeight, errors}.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, evaluateInPage, run } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const hlsjs = path.join(here, '..', '..', '..', 'node_modules', 'hls.js', 'dist', 'hls.min.js');
const args = parseArgs(process.argv.slice(2));
const page_html = `<!doctype html><meta charset="utf-8"><title>play</title>
<script src="/hls.min.js"></script>
<video id="v" muted autoplay playsinline></video>
<script>
window.play = (opts) => new Promise((resolve) => {
  const v = document.getElementById('v');
  const errors = [];
  const hls = new Hls({ lowLatencyMode: false });
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) errors.push(d.type + ':' + d.details); });
  hls.loadSource(opts.url);
  hls.attachMedia(v);
  v.play().catch(() => {});
  let start = null;
  const deadline = Date.now() + opts.bound * 1000;
  const tick = setInterval(() => {
    if (start === null && v.currentTime > 0) start = v.currentTime;
    const advanced = start !== null ? v.currentTime - start : 0;
    if (advanced >= opts.seconds || Date.now() > deadline || errors.length) {
      clearInterval(tick);
      resolve({ advanced, currentTime: v.currentTime, videoWidth: v.videoWidth,
          videoHeight: v.videoHeight, errors });
      hls.destroy();
    }
  }, 200);
});
</script>`;

const seconds = Number(args.seconds || 5);
run(() => evaluateInPage(page_html, 'play', { url: args.url, seconds, bound: seconds + 25 },
    { '/hls.min.js': hlsjs }), 60000);
