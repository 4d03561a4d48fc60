// The recordings of a finished stream as the dashboard lists them: each
// recording opens the watch page, which plays it (/watch/{id}; a later
// publisher session's part with ?recording=<name>), the MP4 stays a
// download, and "Delete recordings" (two clicks, as ending a stream)
// removes them all: DELETE /api/streams/{id}/recordings.
import { api, el, formatDuration } from './api.js';
import { recordingParts } from './recordingplayer.js';

function watchLink(id, part, label) {
  const query = part.session > 1 ? `?recording=${encodeURIComponent(part.name)}` : '';
  return el('a', { href: `/watch/${encodeURIComponent(id)}${query}`, target: '_blank', rel: 'noopener', class: 'watch-recording' }, label);
}

function sizeText(bytes) {
  if (bytes === null || bytes === undefined) return '';
  return bytes >= 1e6 ? `, ${(bytes / 1e6).toFixed(1)} MB` : `, ${Math.round(bytes / 1e3)} KB`;
}

async function remove(button, td, id) {
  if (button.dataset.armed !== '1') {
    button.dataset.armed = '1';
    button.textContent = 'Confirm delete';
    setTimeout(() => {
      if (!button.isConnected) return;
      button.dataset.armed = '';
      button.textContent = 'Delete recordings';
    }, 4000);
    return;
  }
  button.disabled = true;
  try {
    const r = await api('DELETE', `/api/streams/${encodeURIComponent(id)}/recordings`);
    td.replaceChildren(`Recordings deleted (${r.removed.length} files${sizeText(r.bytes)}).`);
  } catch (e) {
    button.disabled = false;
    td.append(el('div', { class: 'health poor' }, `Could not delete: ${e.message}`));
  }
}

// Fills td with the stream's recordings (GET /api/streams/{id}/recordings).
export function renderRecordings(td, id, recordings) {
  const parts = recordingParts({ recordings });
  const items = parts.map((p, i) => el('li', {},
      watchLink(id, p, parts.length > 1 ? `Watch part ${i + 1}` : 'Watch the recording'),
      ` · ${formatDuration(p.duration)}`,
      p.mp4 ? [' · ', el('a', { href: p.mp4, download: '' }, 'MP4 file')] : null));
  // what could not be made says why
  for (const r of recordings.filter((x) => !x.url)) {
    items.push(el('li', {}, el('span', { class: 'health poor' }, `${r.kind}: ${r.error}`)));
  }
  const del = el('button', { type: 'button', class: 'small danger delete-recordings',
    onclick: (e) => remove(e.currentTarget, td, id) }, 'Delete recordings');
  td.replaceChildren(el('ul', {}, items), del);
}
