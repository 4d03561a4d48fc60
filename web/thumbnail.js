// Thumbnails: the latest picture of a live stream, which castline makes
// every few seconds (thumbnails.interval) at the stream's thumbnail_url
// (/live/{id}/thumbnail.jpg, or beside its playlist in S3). Shown on the
// dashboard's rows and as the watch page's poster, asked for again every
// REFRESH_MS with a query that no cache holds. Only for a live stream
// whose stats show video: an audio-only stream has none.
const REFRESH_MS = 5000;

const images = new Map();          // stream id -> its <img> on the dashboard
let timer = null;

export function hasThumbnail(s) {
  return Boolean(s && s.state === 'live' && s.thumbnail_url && s.stats && s.stats.video);
}

// thumbnail_url with a query of now: a new picture, whatever caches hold
export function freshThumbnailUrl(s) {
  const url = s.thumbnail_url;
  return `${url}${url.includes('?') ? '&' : '?'}t=${Date.now()}`;
}

function refreshAll() {
  for (const [id, img] of images) {
    if (!img.isConnected) images.delete(id);
    else img.src = freshThumbnailUrl({ thumbnail_url: img.dataset.url });
  }
  if (!images.size) {
    clearInterval(timer);
    timer = null;
  }
}

// The dashboard row's picture of s: the same <img> on every render while
// the stream is live (refreshed on a timer, not per render), '' otherwise.
export function thumbnailImage(s) {
  if (!hasThumbnail(s)) {
    images.delete(s.id);
    return '';
  }
  let img = images.get(s.id);
  if (!img) {
    img = document.createElement('img');
    img.className = 'thumbnail loading';
    img.alt = '';
    img.decoding = 'async';
    img.dataset.url = s.thumbnail_url;
    img.addEventListener('load', () => img.classList.remove('loading'));
    img.addEventListener('error', () => img.classList.add('loading'));
    img.src = freshThumbnailUrl(s);
    images.set(s.id, img);
    if (!timer) timer = setInterval(refreshAll, REFRESH_MS);
  }
  return img;
}

// The watch page's poster: the stream's latest picture while it is live
// (renewed with a status at most every REFRESH_MS, so it follows the
// stream), none otherwise.
export function setPoster(video, s) {
  if (!hasThumbnail(s)) {
    video.removeAttribute('poster');
    delete video.dataset.posterAt;
    return;
  }
  const at = Number(video.dataset.posterAt || 0);
  if (Date.now() - at < REFRESH_MS) return;
  video.dataset.posterAt = String(Date.now());
  video.poster = freshThumbnailUrl(s);
}
