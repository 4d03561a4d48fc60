// The watch page's recording mode: a stream that ended (or failed) and was
// recorded plays its recording instead of saying it has ended: the VOD
// master where the stream had an abr ladder, else its VOD playlist, with
// hls.js (a VOD playlist: the whole stream, seekable), or the browser's
// own HLS. A line under the player says it is a recording, when it was
// made and how long it is, and offers its MP4 as a download where there
// is one. A stream interrupted and resumed has one recording per
// publisher session: "Part 1", "Part 2"… (?recording=<name> in the
// page's address picks one, as the dashboard's links do).
// The page's status poll drives it: the recording appears as soon as the
// status lists it (recording.ready), without a reload, and goes when it
// is deleted.
/* global Hls */
import { el, formatDuration, formatTime } from './api.js';

// "vod.m3u8" -> "", "s2-vod.m3u8" -> "s2-": a session's prefix
const SESSION = /^(s(\d+)-)?vod\.m3u8$/;

// The parts of a stream's recordings (its status's "recordings"), in
// session order: {name, url, duration, started, mp4}, where mp4 is the
// session's MP4 URL or null. Rung VODs ("360p/vod.m3u8") are the master's.
export function recordingParts(status) {
  const recordings = (status && status.recordings) || [];
  const parts = [];
  for (const r of recordings) {
    const m = r.kind === 'hls' && r.url && SESSION.exec(r.name || '');
    if (!m) continue;
    const prefix = m[1] || '';
    const mp4 = recordings.find((x) => x.kind === 'mp4' && x.url
        && (x.name || '').split('/').pop() === `${prefix}recording.mp4`);
    // the first session started with the stream; a later one this long
    // before its recording was written
    const started = !prefix && status.started_at ? status.started_at
        : new Date(Date.parse(r.created_at) - r.duration * 1000).toISOString();
    parts.push({ name: r.name, session: m[2] ? Number(m[2]) : 1, url: r.url, duration: r.duration,
      started, mp4: mp4 ? mp4.url : null });
  }
  return parts.sort((a, b) => a.session - b.session);
}

export class RecordingPlayer {
  // video, overlay, badge: the page's; info: where the recording's line
  // goes; onLevels(levels): the page fills its quality menu; quality: that
  // menu, whose choice applies while a recording plays; viewerUrl(url):
  // the playlist URL that counts the page as the viewer it already is
  constructor({ video, overlay, badge, info, quality, onLevels, viewerUrl = (u) => u }) {
    Object.assign(this, { video, overlay, badge, info, quality, onLevels, viewerUrl });
    this.hls = null;
    this.part = null;              // the part playing
    this.wanted = new URLSearchParams(location.search).get('recording');
    quality.addEventListener('change', () => {
      if (this.hls) this.hls.currentLevel = Number(quality.value);
    });
  }

  get active() {
    return this.part !== null;
  }

  // Plays the recording of status s when its stream is over and has one:
  // true then (the page shows nothing else). stopLive: stops the page's
  // own player first.
  show(s, stopLive) {
    const parts = s.state === 'ended' || s.state === 'failed' ? recordingParts(s) : [];
    if (!parts.length) {
      this.stop();
      return false;
    }
    const want = parts.find((p) => p.name === (this.part ? this.part.name : this.wanted)) || parts[0];
    if (!this.part || this.part.url !== want.url) {
      stopLive();
      // the live player's play-out end (stopLive itself) must not stop the recording
      this.video.removeEventListener('ended', stopLive);
      this.play(want);
    }
    this.describe(s, parts);
    return true;
  }

  play(part) {
    this.destroy();
    this.part = part;
    const { video } = this;
    this.badge.textContent = 'RECORDING';
    this.badge.className = 'badge recording';
    this.say('Loading the recording…');
    video.addEventListener('playing', () => this.overlay.classList.add('hidden'), { once: true });
    if (window.Hls && Hls.isSupported()) {
      const hls = new Hls({
        startPosition: 0, manifestLoadingMaxRetry: 3, levelLoadingMaxRetry: 4,
        // an xhr opened here keeps it: hls.js then only sends it
        xhrSetup: (xhr, u) => {
          const v = this.viewerUrl(u);
          if (v !== u) xhr.open('GET', v, true);
        },
      });
      this.hls = hls;
      let recovered = false;
      hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
        if (d.levels.length > 1) this.onLevels(d.levels);
      });
      hls.on(Hls.Events.ERROR, (_, d) => {
        if (!d.fatal || this.hls !== hls) return;
        if (d.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
          recovered = true;
          hls.recoverMediaError();
          return;
        }
        this.say(`The recording could not be played (${d.details}).`);
      });
      hls.loadSource(part.url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = this.viewerUrl(part.url);
    } else {
      this.say('This browser cannot play HLS video.');
      return;
    }
    video.play().catch(() => {});
  }

  // the line under the player: "Recording · date · length", the MP4, the parts
  describe(s, parts) {
    const p = this.part;
    const failed = s.state === 'failed' ? ' (the stream failed: this is what was recorded)' : '';
    const items = [el('strong', {}, 'Recording'), ` · ${formatTime(p.started)} · ${formatDuration(p.duration)}${failed}`];
    if (p.mp4) items.push(' · ', el('a', { href: p.mp4, download: '', class: 'mp4' }, 'Download MP4'));
    if (parts.length > 1) {
      items.push(el('span', { class: 'parts' }, parts.map((q, i) => el('button', {
        type: 'button', class: `small ${q.name === p.name ? '' : 'secondary'}`, 'aria-pressed': String(q.name === p.name),
        onclick: () => {
          this.play(q);
          this.describe(s, parts);
        },
      }, `Part ${i + 1}`))));
    }
    this.info.replaceChildren(...items);
    this.info.classList.remove('hidden');
  }

  say(text) {
    this.overlay.textContent = text;
    this.overlay.dataset.kind = 'recording';
    this.overlay.classList.remove('hidden');
  }

  destroy() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
  }

  // back to what the page shows of a stream (the recording was deleted)
  stop() {
    if (!this.part) return;
    this.destroy();
    this.part = null;
    this.video.removeAttribute('src');
    this.video.load();
    this.info.replaceChildren();
    this.info.classList.add('hidden');
  }
}
