// An open watch page turning into the recording when its stream ends, and
// the dashboard's link to it:
//   node web_recording.mjs --base http://127.0.0.1:PORT --id ID --artifacts DIR
// The watch page is opened while the stream is live (the test's publisher
// then ends it) and plays; once the recording is ready the same page (no
// reload: a mark left in its window stays) says RECORDING and plays it
// from the start; a seek to 60 % jumps there and playback goes on. Then
// the dashboard's "Recordings" of the stream: its link opens /watch/ID,
// which plays the recording; the MP4 is a download link. Screenshots
// watch-recording-*.png and dashboard-recordings-*.png into DIR.
// Prints one JSON line (see `out`).
import { parseArgs, launch, run } from './chromium.mjs';
import { advances, openPage, shoot, waitText } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.base.replace(/\/$/, '');

// sets currentTime to `to`; where it is once seeked (null: never within bound)
function seek(page, to, boundMs) {
  return page.evaluate(([target, bound]) => new Promise((resolve) => {
    const v = document.getElementById('video');
    const timer = setTimeout(() => resolve(null), bound);
    v.addEventListener('seeked', () => {
      clearTimeout(timer);
      resolve(v.currentTime);
    }, { once: true });
    v.currentTime = target;
  }), [to, boundMs]);
}

const video = (page) => page.evaluate(() => {
  const v = document.getElementById('video');
  return { currentTime: v.currentTime, duration: v.duration, paused: v.paused, width: v.videoWidth };
});

run(async () => {
  const { browser, close } = await launch();
  const out = { errors: [] };
  try {
    const watch = await openPage(browser, `${base}/watch/${args.id}`, 'watch', out.errors);
    await watch.evaluate(() => { window.castlineMark = 'same page'; });
    out.playedLive = await advances(watch, 1, 30000);
    out.liveBadge = await watch.locator('#badge').textContent();

    // the publisher stops; the recording is written, then listed by the status poll
    out.badge = await waitText(watch, '#badge', /RECORDING/, 90000);
    out.mark = await watch.evaluate(() => window.castlineMark || null);
    out.info = await waitText(watch, '#recording', /Recording/, 5000);
    out.mp4Link = await watch.locator('#recording a[download]').getAttribute('href').catch(() => null);
    out.playedRecording = await advances(watch, 1, 20000);
    out.before = await video(watch);
    const target = out.before.duration * 0.6;
    out.seekTarget = target;
    out.seekedTo = await seek(watch, target, 15000);
    out.playedAfterSeek = await advances(watch, 1, 20000);
    out.after = await video(watch);
    out.overlayHidden = await watch.locator('#overlay').evaluate((o) => o.classList.contains('hidden'));
    out.delayHidden = await watch.locator('#delay').evaluate((d) => d.classList.contains('hidden'));
    out.screenshots = await shoot(watch, args.artifacts, 'watch-recording');

    const dash = await openPage(browser, `${base}/`, 'dashboard', out.errors);
    await waitText(dash, '#connection', /live updates/);
    const row = `#streams tr[data-stream="${args.id}"]`;
    // the watch page is the recording's viewer, and says so
    out.dashboardViewers = await waitText(dash, `${row} .col-viewers`, /of the recording/, 20000)
        .catch(() => null);
    await dash.locator(`${row} button`, { hasText: 'Recordings' }).click();
    const link = dash.locator(`tr[data-recordings-of="${args.id}"] a.watch-recording`).first();
    await link.waitFor({ timeout: 10000 });
    out.dashboardLink = await link.getAttribute('href');
    out.dashboardMp4 = await dash.locator(`tr[data-recordings-of="${args.id}"] a[download]`).first()
        .getAttribute('href').catch(() => null);
    out.screenshots.push(...await shoot(dash, args.artifacts, 'dashboard-recordings'));
    const [opened] = await Promise.all([browser.waitForEvent('page', { timeout: 10000 }), link.click()]);
    await opened.waitForLoadState();
    out.openedPath = new URL(opened.url()).pathname;
    out.openedBadge = await waitText(opened, '#badge', /RECORDING/, 20000);
    out.openedPlayed = await advances(opened, 1, 20000);
    return out;
  } finally {
    await close();
  }
}, 200000);
