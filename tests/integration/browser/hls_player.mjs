// Plays an HLS URL in Chromium with hls.js (or the page's own player when
// it has none) and reports whether playback advances:
//   node hls_player.mjs --url http://127.0.0.1:8080/live/ID/index.m3u8 [--seconds 5]
//   node hls_player.mjs --url .../vod.m3u8 --to-end [--rate 4] [--seconds 20]
//   node hls_player.mjs --url .../index.m3u8 --level N [--seconds 5]
// --level N: once the master playlist is parsed, hls.currentLevel = N (a
// rung forced, as a throttled player would switch down); playback counts
// from when that level shows; the result adds levels ([{width, height,
// bitrate}]) and switched (each LEVEL_SWITCHED's level, in order).
//   node hls_player.mjs --url .../index.m3u8 --low-latency [--seconds 5]
// --low-latency: hls.js in its low-latency mode (LL-HLS parts, blocking
// playlist reloads; off otherwise); the result adds lowLatencyMode (what
// hls.js says it is in), parts (FRAG_LOADED events of a part),
// partList (the most parts a loaded media playlist listed) and delay (s
// behind the broadcaster at the end, from PROGRAM-DATE-TIME; null without).
// Prints one JSON line: {advanced, currentTime, videoWidth, videoHeight, errors,
// ended, duration, startTime, bufferEos, stalledShort, fragsBuffered (the sn of each
// fragment buffered), buffered (the media element's ranges)}. With --to-end it
// plays (at --rate, 1 by default) until the video's `ended` event, or until
// its clock stands still for 5 s: stalledShort is then how far short of the
// duration it stopped (s), and bufferEos whether hls.js had buffered every
// fragment; --seconds bounds the media length it waits for.
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
  const hls = new Hls({ lowLatencyMode: opts.lowLatency });
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) errors.push(d.type + ':' + d.details); });
  let parts = 0;
  let partList = 0;
  hls.on(Hls.Events.FRAG_LOADED, (_, d) => { if (d.part) parts++; });
  hls.on(Hls.Events.LEVEL_LOADED, (_, d) => {
    partList = Math.max(partList, (d.details.partList || []).length);
  });
  const switched = [];
  let levels = [];
  hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
    levels = d.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }));
    if (opts.level !== null) hls.currentLevel = opts.level;
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => switched.push(d.level));
  // every fragment of an ended playlist is in the buffer
  let bufferEos = false;
  hls.on(Hls.Events.BUFFER_EOS, () => { bufferEos = true; });
  const fragsBuffered = [];
  hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => fragsBuffered.push(d.frag.sn));
  let last = -1;
  let stalledSince = null;
  hls.loadSource(opts.url);
  hls.attachMedia(v);
  v.playbackRate = opts.rate;
  v.addEventListener('loadedmetadata', () => { v.playbackRate = opts.rate; });
  v.play().catch(() => {});
  let start = null;
  const deadline = Date.now() + opts.bound * 1000;
  const tick = setInterval(() => {
    const onLevel = opts.level === null || (switched[switched.length - 1] === opts.level
        && levels[opts.level] && v.videoHeight === levels[opts.level].height);
    if (start === null && v.currentTime > 0 && onLevel) start = v.currentTime;
    const advanced = start !== null ? v.currentTime - start : 0;
    // stalled: playing, and the clock no longer moves for 5 s (a player
    // stuck short of the end: reported, not waited out)
    if (v.currentTime !== last) { last = v.currentTime; stalledSince = Date.now(); }
    const stalled = v.currentTime > 0 && Date.now() - stalledSince > 5000;
    const done = opts.toEnd ? v.ended || stalled : advanced >= opts.seconds;
    if (done || Date.now() > deadline || errors.length) {
      clearInterval(tick);
      resolve({ advanced, currentTime: v.currentTime, videoWidth: v.videoWidth,
          videoHeight: v.videoHeight, errors, ended: v.ended, duration: v.duration, bufferEos,
          stalledShort: stalled ? v.duration - v.currentTime : null, fragsBuffered,
          buffered: Array.from({ length: v.buffered.length },
              (_, i) => [v.buffered.start(i), v.buffered.end(i)]),
          startTime: start, levels, switched, lowLatencyMode: hls.lowLatencyMode, parts, partList,
          delay: hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null });
      hls.destroy();
    }
  }, 200);
});
</script>`;

const seconds = Number(args.seconds || 5);
const rate = Number(args.rate || 1);
const toEnd = Boolean(args['to-end']);
const level = args.level === undefined ? null : Number(args.level);
const lowLatency = Boolean(args['low-latency']);
run(() => evaluateInPage(page_html, 'play',
    { url: args.url, seconds, rate, toEnd, level, lowLatency, bound: seconds / rate + 25 },
    { '/hls.min.js': hlsjs }), 60000);
