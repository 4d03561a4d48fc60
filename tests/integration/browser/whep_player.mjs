// Plays a stream over WHEP (draft-ietf-wish-whep) in Chromium, with the
// launcher's own client (web/whep.js) from a document of the launcher's
// origin (http://127.0.0.1: a secure context, same origin as /whep):
//   node whep_player.mjs --url http://127.0.0.1:PORT/whep/ID [--token T]
//        [--pages N] [--seconds 4] [--kill-after S]
//   node whep_player.mjs --url http://127.0.0.1:PORT/whep/ID --watch
//        [--pages N] [--seconds 4] [--switch I]
// Each of --pages (1) opens its own session in one browser and plays it for
// --seconds once connected, then stops it (DELETE of its Location). Prints
// one JSON line {sessions: [...]}, each {status, location, retryAfter,
// links, error, kind, connected, connectMs, framesDecoded, frames (decoded
// by each second), frameWidth, frameHeight (the decoder's), videoWidth,
// videoHeight (the <video>'s), shownFor (how far the <video>'s currentTime
// ran while the session played, in seconds), videoCodec,
// audioTrack, videoReceiver (its inbound-rtp: frames received, dropped,
// keyframes, freezes, PLIs...), audioCodec, audioPackets, audioSamples,
// lost (the connection went without a stop: its message), deleteStatus}.
// --kill-after S: S s after every page connected, the figures are taken and
// the whole browser is SIGKILLed (no DELETE, no goodbye: a viewer gone as
// a crash leaves), {killed: [pids]} added.
// --watch: the pages are the watch page (/watch/ID) instead, opened one
// after the other once the previous one settled on "Real-time" or "HLS";
// each {mode, dataMode, note, advanced, frames, videoWidth, videoHeight,
// viewers, latency, quality, badge}; with --switch I, page I's switch
// button is then clicked and its new mode and playback are added as
// switched {mode, advanced}. errors: console errors and answers >= 400.
// --fake-answer: the pages' WHEP requests never reach the launcher: the
// POST is answered 201 with an answer whose only candidate is a closed
// port (a WebRTC that never connects, as behind a UDP-blocking firewall).
import { parseArgs, killHard, launch, run } from './chromium.mjs';
import { watchConsole } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const url = new URL(args.url);
const streamId = decodeURIComponent(url.pathname.split('/')[2]);
const pages = Number(args.pages || 1);
const seconds = Number(args.seconds || 4);
const killAfter = args['kill-after'] === undefined ? null : Number(args['kill-after']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// in the page: starts a session into a new <video>; resolves when connected
// or refused, keeping what later calls read in window.whep
async function start(opts) {
  const { playWhep } = await import('/ui/whep.js');
  const video = document.createElement('video');
  Object.assign(video, { muted: true, autoplay: true, playsInline: true });
  document.body.append(video);
  const out = { connected: false, frames: [] };
  window.whep = { out, video };
  const t0 = performance.now();
  try {
    window.whep.session = await playWhep({ url: opts.url, video, token: opts.token,
        onStatus: (status, h) => Object.assign(out, { status, location: h.get('Location'),
            retryAfter: h.get('Retry-After'), links: h.get('Link') }),
        onEnd: (e) => { out.lost = e.message; } });
  } catch (e) {
    Object.assign(out, { error: e.message, kind: e.kind });
    return out;
  }
  out.connected = true;
  out.connectMs = Math.round(performance.now() - t0);
  video.play().catch(() => {});
  window.whep.startTime = video.currentTime;
  window.whep.sampler = setInterval(async () => {
    const st = await window.whep.session.stats().catch(() => null);
    if (st) out.frames.push(st.framesDecoded);
  }, 1000);
  return out;
}

// in the page: the figures now; stop: end the session (DELETE)
async function collect(stop) {
  const { out, video, session } = window.whep;
  if (!session) return out;
  clearInterval(window.whep.sampler);
  // a connection lost is closed: its figures are those of the last sample
  const stats = await session.pc.getStats().catch(() => new Map());
  const codecs = {};
  stats.forEach((s) => {
    if (s.type === 'codec') codecs[s.id] = s.mimeType;
  });
  stats.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') {
      out.framesDecoded = s.framesDecoded || 0;
      out.videoReceiver = { framesReceived: s.framesReceived, framesDropped: s.framesDropped,
        keyFramesDecoded: s.keyFramesDecoded, freezeCount: s.freezeCount, pauseCount: s.pauseCount,
        jitterBufferMs: s.jitterBufferEmittedCount ? Math.round(1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount) : null,
        pliCount: s.pliCount, nackCount: s.nackCount, packetsLost: s.packetsLost };
      out.frameWidth = s.frameWidth || 0;
      out.frameHeight = s.frameHeight || 0;
      out.videoCodec = codecs[s.codecId] || null;
    } else if (s.kind === 'audio') {
      out.audioPackets = s.packetsReceived || 0;
      out.audioSamples = s.totalSamplesReceived || 0;
      out.audioCodec = codecs[s.codecId] || null;
    }
  });
  out.videoWidth = video.videoWidth;
  out.videoHeight = video.videoHeight;
  out.shownFor = Math.round(10 * (video.currentTime - window.whep.startTime)) / 10;
  out.audioTrack = !!(video.srcObject && video.srcObject.getAudioTracks().length);
  if (stop) out.deleteStatus = await session.stop();
  return out;
}

async function direct(browser) {
  const tabs = [];
  for (let i = 0; i < pages; i++) {
    const page = await browser.newPage();
    // any document of the launcher's origin will do: one that runs nothing
    await page.goto(new URL('/ui/whep.js', url).href);
    tabs.push(page);
  }
  const opts = { url: url.href, token: args.token || '' };
  const started = await Promise.all(tabs.map((p) => p.evaluate(start, opts)));
  await sleep((killAfter ?? seconds) * 1000);
  const sessions = await Promise.all(tabs.map((p, i) => (started[i].connected
    ? p.evaluate(collect, killAfter === null) : started[i])));
  return { sessions };
}

// in the watch page: what it shows
function shown() {
  const text = (sel) => (document.querySelector(sel) || {}).textContent?.trim() ?? null;
  const v = document.getElementById('video');
  const mode = document.getElementById('mode');
  return { mode: mode.classList.contains('hidden') ? '' : text('#mode'), dataMode: mode.dataset.mode,
    note: text('#mode-note'), viewers: text('#viewers'), latency: text('#latency'), badge: text('#badge'),
    quality: [...document.querySelectorAll('#quality option')].map((o) => o.textContent),
    currentTime: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames,
    videoWidth: v.videoWidth, videoHeight: v.videoHeight };
}

async function settled(page, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await page.evaluate(shown);
    if ((s.dataMode === 'rtc' || s.dataMode === 'hls') && s.currentTime > 0) return s;
    if (Date.now() > deadline) throw new Error(`the watch page never played: it showed ${JSON.stringify(s)}`);
    await sleep(200);
  }
}

// An answer to `offer` that can never connect: the offer's ICE and DTLS
// lines, sending, one host candidate on the discard port.
function neverConnects(offer) {
  const lines = offer.split('\r\n').filter((l) => l && !/^a=(candidate|end-of-candidates|ice-options)/.test(l))
    .map((l) => l.replace(/^a=recvonly$/, 'a=sendonly').replace(/^a=setup:actpass$/, 'a=setup:active'));
  const out = [];
  let first = true;
  for (const l of lines) {
    out.push(l);
    if (first && l.startsWith('a=mid:')) {
      out.push('a=candidate:1 1 udp 2113937151 127.0.0.1 9 typ host');
      first = false;
    }
  }
  return `${out.join('\r\n')}\r\n`;
}

async function fakeWhep(route) {
  const req = route.request();
  if (req.method() !== 'POST') return route.fulfill({ status: 200 });
  return route.fulfill({ status: 201, body: neverConnects(req.postData()),
    headers: { 'Content-Type': 'application/sdp', Location: `/whep/${encodeURIComponent(streamId)}/never` } });
}

async function watch(browser) {
  const errors = [];
  const tabs = [];
  for (let i = 0; i < pages; i++) {
    const page = await browser.newPage();
    watchConsole(page, `watch ${i}`, errors);
    if (args['fake-answer']) await page.route(/\/whep\//, fakeWhep);
    await page.goto(`${url.origin}/watch/${encodeURIComponent(streamId)}`);
    await settled(page, 40000);
    tabs.push(page);
  }
  const before = await Promise.all(tabs.map((p) => p.evaluate(shown)));
  await sleep(seconds * 1000);
  // viewer counts come with the status polled every 3 s
  await sleep(3500);
  const sessions = [];
  for (const [i, p] of tabs.entries()) {
    const s = await p.evaluate(shown);
    sessions.push({ ...s, advanced: s.currentTime - before[i].currentTime });
  }
  if (args.switch !== undefined) {
    const i = Number(args.switch);
    const page = tabs[i];
    await page.click('#switch-mode');
    await sleep(500);
    const start = await settled(page, 30000);
    // playing on: a second of the HLS within 10 s (a loaded machine's
    // hls.js may still be buffering 3 s after its first frame: ci30)
    let s = start;
    const until = Date.now() + 10000;
    do {
      await sleep(500);
      s = await page.evaluate(shown);
    } while (s.currentTime - start.currentTime < 1 && Date.now() < until);
    sessions[i].switched = { mode: s.mode, dataMode: s.dataMode, advanced: s.currentTime - start.currentTime };
  }
  for (const p of tabs) await p.close({ runBeforeUnload: true });
  return { sessions, errors };
}

run(async () => {
  const { browser, close, userDataDir } = await launch();
  try {
    const result = await (args.watch ? watch(browser) : direct(browser));
    if (killAfter !== null) result.killed = killHard(userDataDir);
    return result;
  } finally {
    await close();
  }
}, 150000);
