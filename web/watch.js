// The watch page (/watch/{id}): plays the stream in real time over WebRTC
// (WHEP) while the stream has a seat free, else its HLS with hls.js (or the
// browser's own HLS, as Safari has, where there is no MSE), and says which
// ("Real-time" or "HLS"; the viewer can switch by hand). A LIVE badge, the
// viewer count, a quality menu, the delay behind live, and plain messages
// for a stream not started, interrupted, ended or failing to play (retried
// by itself). The hybrid rule: WHEP first; its refusal (503: every seat
// taken), a failure, or no connection within 5 s falls back to HLS, as
// does a real-time connection lost while the stream is live.
// An HLS viewer counts as one: a random id per tab, sent as heartbeats and
// on every playlist request castline serves. A WebRTC viewer is counted by
// its session: no heartbeat. A recording's viewer counts the same way while
// it plays it (the dashboard says "of the recording").
/* global Hls */
import { $, ApiError, el, formatBitrate, formatTime, showMessage, sleep, streamStatus } from './api.js';
import { playWhep } from './whep.js';
import { RecordingPlayer } from './recordingplayer.js';
import { setPoster } from './thumbnail.js';

const STATUS_MS = 3000;
const HEARTBEAT_MS = 10000;
const MAX_RETRY_S = 30;
const PICTURE_MS = 6000;    // connected in real time, but nothing plays: HLS

const video = $('#video');
const overlay = $('#overlay');
const badge = $('#badge');
const message = $('#message');
const quality = $('#quality');
const toLive = $('#to-live');
const modeBadge = $('#mode');
const switchMode = $('#switch-mode');
const modeNote = $('#mode-note');
// an ended, recorded stream plays its recording (recordingplayer.js)
const recording = new RecordingPlayer({ video, overlay, badge, quality, info: $('#recording'), onLevels: fillQuality,
  viewerUrl: (u) => withViewer(u) });

const streamId = decodeURIComponent((location.pathname.match(/^\/watch\/([^/]+)/) || [])[1] || '');
// 128 random bits, hex (crypto.randomUUID needs a secure context; this does not)
const viewer = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

// A stream that asks for a token (webrtc.token) gets it in the link's
// fragment (/watch/{id}#token=…: never sent to a server), kept for this tab.
const TOKEN_KEY = `castline.webrtcToken.${streamId}`;
{
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

let hls = null;
let rtc = null;             // the WHEP session while playing in real time
let mode = null;            // 'rtc', 'hls', 'connecting' (to WHEP) or null
let attempt = 0;            // bumped by stopPlayer: a late WHEP answer is dropped
let wantRealtime = true;    // false once the viewer switched to HLS by hand
let rtcDelay = null;        // the WHEP session's estimated delay (s)
let playing = null;         // the URL the player was started with
let status = null;          // the stream's last status
let state = null;           // the stream's last known state
let retries = 0;
let retryTimer = null;
let endTimer = null;

// --- viewer identity --------------------------------------------------------

// Playlists castline serves (this origin) count the viewer by its id, the
// one its heartbeats carry, so it counts once. Other origins (S3, a CDN)
// get the URL as it is: a per-viewer query would defeat their caches.
function withViewer(url) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin || !/\.m3u8$/.test(u.pathname)) return url;
  u.searchParams.set('viewer', viewer);
  return u.href;
}

function heartbeat() {
  if (recording.active) {
    if (video.paused) return;           // a recording's viewer, while it plays it
  } else {
    if (state !== 'live' && state !== 'interrupted') return;
    if (mode !== 'hls') return;         // a WebRTC session counts itself
  }
  const url = `/api/streams/${encodeURIComponent(streamId)}/heartbeat`;
  const body = JSON.stringify({ viewer });
  // text/plain: no preflight, and it still goes as the tab closes
  if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
    fetch(url, { method: 'POST', body, keepalive: true }).catch(() => {});
  }
}

// --- the player ---------------------------------------------------------------

function stopPlayer() {
  clearTimeout(retryTimer);
  clearTimeout(endTimer);
  attempt++;
  if (hls) hls.destroy();
  hls = null;
  // an ended stream's sessions are gone already: no DELETE
  if (rtc && (state === 'ended' || state === 'failed')) rtc.release();
  else if (rtc) rtc.stop();
  rtc = null;
  rtcDelay = null;
  playing = null;
  setMode(null);
  video.srcObject = null;
  video.removeAttribute('src');
  video.load();
  quality.replaceChildren(el('option', { value: '-1' }, 'Auto'));
  quality.disabled = true;
}

// Real time when the stream offers it and the viewer has not chosen HLS;
// HLS otherwise.
function startPlayback(s) {
  if (s.whep_url && wantRealtime) startRealtime(s);
  else startPlayer(s.playback_url);
}

async function startRealtime(s) {
  stopPlayer();
  const mine = attempt;
  playing = s.whep_url;
  setMode('connecting');
  showOverlay('Connecting in real time…');
  let session;
  try {
    session = await playWhep({ url: s.whep_url, video, token: sessionStorage.getItem(TOKEN_KEY) || '',
        onEnd: (e) => {
          if (rtc === session) realtimeLost(e);
        } });
  } catch (e) {
    if (mine === attempt) fallBack(`Real-time: ${e.message} Playing HLS instead.`);
    return;
  }
  if (mine !== attempt) {
    session.stop();
    return;
  }
  rtc = session;
  setMode('rtc');
  modeNote.textContent = '';
  // one quality: the publisher's, as it comes (no simulcast)
  quality.replaceChildren(el('option', { value: '-1' }, 'Source'));
  quality.disabled = true;
  video.play().catch(() => {});
  // a connection that carries nothing the <video> can play is no better
  // than none
  setTimeout(() => {
    if (rtc === session && video.readyState < 2) {
      realtimeLost(new Error(`Nothing played over real time within ${PICTURE_MS / 1000} s.`));
    }
  }, PICTURE_MS);
}

// WHEP was refused, failed or did not connect in time: HLS, saying why.
function fallBack(why) {
  if (state !== 'live' || !status) return;
  startPlayer(status.playback_url);
  modeNote.textContent = why;
  heartbeat();
}

// An established real-time connection went: HLS if the stream is still
// live (asked first: an ended stream's playlist would play from its start).
async function realtimeLost(e) {
  stopPlayer();
  showOverlay('The real-time connection was lost…');
  const mine = attempt;
  try {
    const s = await streamStatus(streamId);
    if (mine !== attempt) return;
    if (s.state === 'live') {
      status = s;
      state = s.state;
      fallBack(`${e.message} Playing HLS instead.`);
    } else {
      applyStatus(s);
    }
  } catch {
    // the next status poll decides
  }
}

function setMode(m) {
  mode = m;
  const shown = m === 'rtc' || m === 'hls';
  modeBadge.dataset.mode = m || '';
  modeBadge.textContent = { rtc: 'Real-time', hls: 'HLS', connecting: 'Connecting…' }[m] || '';
  modeBadge.title = { rtc: 'WebRTC: well under a second behind live', hls: 'HLS: a few seconds behind live' }[m] || '';
  modeBadge.classList.toggle('hidden', !m);
  const offered = state === 'live' && status && status.whep_url;
  switchMode.classList.toggle('hidden', !(offered && shown));
  switchMode.textContent = m === 'rtc' ? 'Switch to HLS' : 'Try real-time';
}

switchMode.addEventListener('click', () => {
  if (state !== 'live' || !status) return;
  wantRealtime = mode !== 'rtc';
  retries = 0;
  modeNote.textContent = '';
  startPlayback(status);
});

// Whether the stream's media playlists have LL-HLS parts (hls.low_latency):
// the playlist at url, or a master's first variant. hls.js then keeps the
// playlist's PART-HOLD-BACK behind live (a liveSyncDurationCount given
// would override it); classic HLS keeps the page's two segments.
async function hasParts(url) {
  try {
    let text = await (await fetch(withViewer(url), { cache: 'no-store' })).text();
    const variant = /#EXT-X-STREAM-INF:[^\n]*\n([^#\s][^\n]*)/.exec(text);
    if (variant) {
      const u = new URL(variant[1].trim(), new URL(url, location.href));
      text = await (await fetch(withViewer(u.href), { cache: 'no-store' })).text();
    }
    return text.includes('#EXT-X-PART-INF');
  } catch {
    return false;
  }
}

function startPlayer(url) {
  stopPlayer();
  playing = url;
  setMode('hls');
  showOverlay('Starting…');
  if (window.Hls && Hls.isSupported()) {
    const mine = attempt;              // a later start or stop wins
    hasParts(url).then((parts) => {
      if (attempt === mine && playing === url) startHls(url, parts);
    });
    return;
  }
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    // Safari plays LL-HLS (parts, blocking reloads) by itself
    video.src = withViewer(url);
  } else {
    showOverlay('This browser cannot play HLS video.');
    return;
  }
  video.play().catch(() => {});
}

function startHls(url, parts) {
  const config = {
    // an xhr opened here keeps it: hls.js then only sends it
    xhrSetup: (xhr, u) => {
      const v = withViewer(u);
      if (v !== u) xhr.open('GET', v, true);
    },
    // LL-HLS: parts loaded as they are announced, blocking playlist
    // reloads, PART-HOLD-BACK (three parts) behind the newest part
    lowLatencyMode: true,
    // up to 10 % faster playback to get back to the target after a late
    // start or a stall
    maxLiveSyncPlaybackRate: 1.1,
    manifestLoadingMaxRetry: 3,
    levelLoadingMaxRetry: 4,
  };
  // classic HLS: two segments behind the newest (hls.js's default is
  // three; bench/latency.py: 1 s segments, about 2.8 s glass to glass with
  // one segment; two leave more room for a slow network)
  if (!parts) config.liveSyncDurationCount = 2;
  hls = new Hls(config);
  let recovered = false;
  hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => fillQuality(d.levels));
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => labelAuto(d.level));
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (!d.fatal) return;
    // a decoder hiccup is worth one in-place recovery before a reload
    if (d.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;
      hls.recoverMediaError();
      return;
    }
    playbackFailed(describe(d));
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.play().catch(() => {});
}

function describe(d) {
  if (d.response && d.response.code === 404) return 'the video is not there yet';
  if (d.type === Hls.ErrorTypes.NETWORK_ERROR) return 'the video could not be loaded';
  if (d.type === Hls.ErrorTypes.MEDIA_ERROR) return 'the video could not be decoded';
  return d.details;
}

// A fatal error: say so, then start again after 2, 4 … 30 s while the
// stream is live.
function playbackFailed(reason) {
  const url = playing;
  stopPlayer();
  if (state !== 'live') return;
  let left = Math.min(2 ** ++retries, MAX_RETRY_S);
  const tick = () => {
    if (state !== 'live') return;
    if (left <= 0) {
      startPlayer(url);
      return;
    }
    showOverlay(`Playback problem: ${reason}. Retrying in ${left} s…`);
    left--;
    retryTimer = setTimeout(tick, 1000);
  };
  tick();
}

function fillQuality(levels) {
  const options = levels.map((l, i) => ({ i, l })).sort((a, b) => (b.l.height - a.l.height) || (b.l.bitrate - a.l.bitrate));
  quality.replaceChildren(el('option', { value: '-1' }, 'Auto'),
      ...options.map(({ i, l }) => el('option', { value: String(i) },
          // a media playlist alone (no master) has neither: "Source"
          [l.height ? `${l.height}p` : l.videoCodec || !l.audioCodec ? 'Source' : 'Audio',
            l.bitrate ? formatBitrate(l.bitrate) : null].filter(Boolean).join(' · '))));
  quality.disabled = false;
}

function labelAuto(level) {
  const l = hls && hls.levels[level];
  quality.options[0].textContent = hls && hls.autoLevelEnabled && l && l.height ? `Auto (${l.height}p)` : 'Auto';
}

quality.addEventListener('change', () => {
  if (!hls) return;
  hls.currentLevel = Number(quality.value);        // -1: automatic
  labelAuto(hls.currentLevel);
});

// --- live edge, delay, badge ------------------------------------------------

// Seconds behind real time: from EXT-X-PROGRAM-DATE-TIME (the launcher
// dates every segment at ingest), else behind the playlist's live edge.
function delay() {
  if (rtc) return rtcDelay;
  if (hls) {
    if (hls.playingDate) return (Date.now() - hls.playingDate.getTime()) / 1000;
    return Number.isFinite(hls.latency) ? hls.latency : null;
  }
  const start = video.getStartDate ? video.getStartDate().getTime() : NaN;
  if (Number.isFinite(start) && video.currentTime > 0) return (Date.now() - start) / 1000 - video.currentTime;
  return null;
}

function atLiveEdge() {
  if (rtc) return true;
  if (hls) return Number.isFinite(hls.latency) && hls.latency <= (hls.targetLatency || 6) + 4;
  const s = video.seekable;
  return s.length > 0 && s.end(s.length - 1) - video.currentTime < 10;
}

function showBadge() {
  $('#delay').classList.toggle('hidden', recording.active);   // a recording is behind nothing
  if (recording.active) return;         // it says RECORDING
  const playingNow = playing && !video.paused && video.currentTime > 0 && video.readyState >= 2;
  const live = state === 'live';
  const edge = live && playingNow && atLiveEdge();
  badge.textContent = live ? (edge || !playingNow ? 'LIVE' : 'BEHIND LIVE') : (state || 'offline').toUpperCase();
  badge.className = `badge${edge ? ' live' : ''}`;
  toLive.classList.toggle('hidden', !(live && playingNow && !edge));
  const d = playingNow ? delay() : null;
  $('#latency').textContent = d !== null && d >= 0 ? `${d.toFixed(1)} s behind live` : '–';
  if (playingNow && overlay.dataset.kind === 'player') hideOverlay();
  if (rtc) {
    const session = rtc;
    session.stats().then((st) => {
      if (rtc === session) rtcDelay = st.delay;
    }, () => {});
    if (video.videoHeight) quality.options[0].textContent = `Source (${video.videoHeight}p)`;
  }
}

toLive.addEventListener('click', () => {
  if (hls && Number.isFinite(hls.liveSyncPosition)) video.currentTime = hls.liveSyncPosition;
  else if (video.seekable.length) video.currentTime = video.seekable.end(video.seekable.length - 1) - 3;
  video.play().catch(() => {});
});

// --- messages -----------------------------------------------------------------

// kind 'player': hidden by itself once the video plays
function showOverlay(text, kind = 'player') {
  overlay.textContent = text;
  overlay.dataset.kind = kind;
  overlay.classList.remove('hidden');
}

function hideOverlay() {
  overlay.classList.add('hidden');
}

// --- the stream's state ---------------------------------------------------------

function applyStatus(s) {
  const was = state;
  state = s.state;
  status = s;
  $('#title').textContent = s.title || 'Untitled stream';
  document.title = `${s.title || 'castline'} · watch`;
  $('#viewers').textContent = String(s.viewers ?? 0);
  setPoster(video, s);
  $('#watching').classList.toggle('hidden', s.state !== 'live' && s.state !== 'interrupted');
  showMessage(message, '');
  if (s.state === 'live') {
    // (again) live: a new session's playlist replaces the old one
    if (!playing || was !== 'live') {
      retries = 0;
      startPlayback(s);
      if (was !== 'live') heartbeat();
    }
    setMode(mode);          // the switch button follows what the stream offers
    return;
  }
  if (recording.show(s, stopPlayer)) return;      // over, and recorded: its recording plays
  const texts = {
    created: 'This stream has not started yet. It plays here as soon as it does.',
    scheduled: `This stream is scheduled for ${formatTime(s.scheduled_at)}.`,
    interrupted: 'The broadcaster’s connection dropped. Waiting for them to come back…',
    ended: 'This stream has ended.',
    failed: `This stream failed${s.reason ? `: ${s.reason}` : ''}.`,
  };
  showOverlay(texts[s.state] || s.state, 'state');
  if (s.state === 'ended' && playing && was === 'live' && mode === 'hls') {
    // what is buffered plays to the end (the playlist has its ENDLIST)
    video.addEventListener('ended', stopPlayer, { once: true });
    endTimer = setTimeout(stopPlayer, 20000);
  } else if (s.state !== 'ended' || mode !== 'hls') {
    // real time has nothing buffered to play out: it stops at once
    stopPlayer();
  }
}

async function pollStatus() {
  for (;;) {
    try {
      applyStatus(await streamStatus(streamId));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        state = null;
        stopPlayer();
        $('#title').textContent = 'No such stream';
        showOverlay(`There is no stream “${streamId}”. Check the link.`, 'state');
        return;
      }
      showMessage(message, `Could not reach the server (${e.message}); trying again.`, 'warn');
    }
    await sleep(STATUS_MS);
  }
}

if (!streamId) {
  showOverlay('No stream: the address should be /watch/<stream id>.', 'state');
} else {
  // a WebRTC seat is freed at once, not when the server notices the silence
  window.addEventListener('pagehide', () => {
    if (rtc) rtc.stop();
  });
  pollStatus();
  setInterval(heartbeat, HEARTBEAT_MS);
  setInterval(showBadge, 1000);
}
