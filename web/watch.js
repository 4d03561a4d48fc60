// The watch page (/watch/{id}): plays the stream's HLS with hls.js (or the
// browser's own HLS, as Safari has, where there is no MSE), with a LIVE
// badge, the viewer count, a quality menu, the delay behind live, and
// plain messages for a stream not started, interrupted, ended or failing
// to play (retried by itself). It counts as one viewer: a random id per
// tab, sent as heartbeats and on every playlist request castline serves.
/* global Hls */
import { $, ApiError, el, formatBitrate, formatTime, showMessage, sleep, streamStatus } from './api.js';

const STATUS_MS = 3000;
const HEARTBEAT_MS = 10000;
const MAX_RETRY_S = 30;

const video = $('#video');
const overlay = $('#overlay');
const badge = $('#badge');
const message = $('#message');
const quality = $('#quality');
const toLive = $('#to-live');

const streamId = decodeURIComponent((location.pathname.match(/^\/watch\/([^/]+)/) || [])[1] || '');
// 128 random bits, hex (crypto.randomUUID needs a secure context; this does not)
const viewer = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

let hls = null;
let playing = null;         // the playback URL the player was started with
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
  if (state !== 'live' && state !== 'interrupted') return;
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
  if (hls) hls.destroy();
  hls = null;
  playing = null;
  video.removeAttribute('src');
  video.load();
  quality.replaceChildren(el('option', { value: '-1' }, 'Auto'));
  quality.disabled = true;
}

function startPlayer(url) {
  stopPlayer();
  playing = url;
  showOverlay('Starting…');
  if (window.Hls && Hls.isSupported()) {
    hls = new Hls({
      // an xhr opened here keeps it: hls.js then only sends it
      xhrSetup: (xhr, u) => {
        const v = withViewer(u);
        if (v !== u) xhr.open('GET', v, true);
      },
      // two segments behind the newest (hls.js's default is three), and up
      // to 10 % faster playback to get back there after a late start or a
      // stall (bench/latency.py: 1 s segments, about 2.8 s glass to glass
      // with one segment; two leave more room for a slow network)
      liveSyncDurationCount: 2,
      maxLiveSyncPlaybackRate: 1.1,
      manifestLoadingMaxRetry: 3,
      levelLoadingMaxRetry: 4,
    });
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
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = withViewer(url);
  } else {
    showOverlay('This browser cannot play HLS video.');
    return;
  }
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
  if (hls) {
    if (hls.playingDate) return (Date.now() - hls.playingDate.getTime()) / 1000;
    return Number.isFinite(hls.latency) ? hls.latency : null;
  }
  const start = video.getStartDate ? video.getStartDate().getTime() : NaN;
  if (Number.isFinite(start) && video.currentTime > 0) return (Date.now() - start) / 1000 - video.currentTime;
  return null;
}

function atLiveEdge() {
  if (hls) return Number.isFinite(hls.latency) && hls.latency <= (hls.targetLatency || 6) + 4;
  const s = video.seekable;
  return s.length > 0 && s.end(s.length - 1) - video.currentTime < 10;
}

function showBadge() {
  const playingNow = playing && !video.paused && video.currentTime > 0 && video.readyState >= 2;
  const live = state === 'live';
  const edge = live && playingNow && atLiveEdge();
  badge.textContent = live ? (edge || !playingNow ? 'LIVE' : 'BEHIND LIVE') : (state || 'offline').toUpperCase();
  badge.className = `badge${edge ? ' live' : ''}`;
  toLive.classList.toggle('hidden', !(live && playingNow && !edge));
  const d = playingNow ? delay() : null;
  $('#latency').textContent = d !== null && d >= 0 ? `${d.toFixed(1)} s behind live` : '–';
  if (playingNow && overlay.dataset.kind === 'player') hideOverlay();
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
  $('#title').textContent = s.title || 'Untitled stream';
  document.title = `${s.title || 'castline'} · watch`;
  $('#viewers').textContent = String(s.viewers ?? 0);
  $('#watching').classList.toggle('hidden', s.state !== 'live' && s.state !== 'interrupted');
  showMessage(message, '');
  if (s.state === 'live') {
    // (again) live: a new session's playlist replaces the old one
    if (!playing || was !== 'live') {
      retries = 0;
      startPlayer(s.playback_url);
      if (was !== 'live') heartbeat();
    }
    return;
  }
  const texts = {
    created: 'This stream has not started yet. It plays here as soon as it does.',
    scheduled: `This stream is scheduled for ${formatTime(s.scheduled_at)}.`,
    interrupted: 'The broadcaster’s connection dropped. Waiting for them to come back…',
    ended: 'This stream has ended.',
    failed: `This stream failed${s.reason ? `: ${s.reason}` : ''}.`,
  };
  showOverlay(texts[s.state] || s.state, 'state');
  if (s.state === 'ended' && playing && was === 'live') {
    // what is buffered plays to the end (the playlist has its ENDLIST)
    video.addEventListener('ended', stopPlayer, { once: true });
    endTimer = setTimeout(stopPlayer, 20000);
  } else if (s.state !== 'ended') {
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
  pollStatus();
  setInterval(heartbeat, HEARTBEAT_MS);
  setInterval(showBadge, 1000);
}
