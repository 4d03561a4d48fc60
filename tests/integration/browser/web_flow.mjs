// castline's pages end to end in one Chromium, as a person uses them:
//   node web_flow.mjs --base http://127.0.0.1:PORT --ingest whip|websocket --artifacts DIR
// The dashboard creates a stream through its form (the id and key read off
// the page); its "Open broadcast page" link goes live with the fake camera
// over --ingest; the watch page plays (in real time: WHEP) until
// video.currentTime advances 2 s and shows 1 viewer, as the dashboard and
// the broadcast page do; the dashboard ends the stream and every page then
// says so. Screenshots of
// each page (desktop and phone) go to DIR as <ingest>-<page>-<moment>-*.png.
// Prints one JSON line of what the pages showed (see `out` below).
import { parseArgs, launch, run } from './chromium.mjs';
import { openPage, shoot, waitText } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.base.replace(/\/$/, '');
const ingest = args.ingest || 'whip';
const dir = args.artifacts;

async function flow(browser, pages) {
  const errors = [];
  const out = { errors, timings: {} };
  const t0 = Date.now();
  const mark = (name) => { out.timings[name] = (Date.now() - t0) / 1000; };

  // --- the dashboard creates a stream
  const dash = pages.dashboard = await openPage(browser, `${base}/`, 'dashboard', errors);
  await waitText(dash, '#connection', /live updates/);
  await dash.fill('#title', `Web test (${ingest})`);
  await dash.click('#create');
  await dash.locator('#created').waitFor({ state: 'visible', timeout: 10000 });
  out.id = await dash.inputValue('#created-fields input[name="id"]');
  const key = await dash.inputValue('#created-fields input[name="key"]');
  out.keyLength = key.length;
  out.createdFields = await dash.locator('#created-fields input').evaluateAll((l) => l.map((i) => i.name));
  const broadcastUrl = await dash.getAttribute('#created-broadcast', 'href');
  out.linkCarriesKey = broadcastUrl.endsWith(`#key=${encodeURIComponent(key)}`);
  const row = `#streams tr[data-stream="${out.id}"]`;
  out.dashboardStateBefore = await waitText(dash, `${row} .col-state`, /Not started/);
  await shoot(dash, dir, `${ingest}-dashboard-created`);
  mark('created');

  // --- the broadcast page goes live with the key from the link
  const cast = pages.broadcast = await openPage(browser, broadcastUrl, 'broadcast', errors);
  out.fragmentRemoved = !cast.url().includes('#');
  out.keyPrefilled = (await cast.inputValue('#stream-key')) === key;
  out.idPrefilled = (await cast.inputValue('#stream-id')) === out.id;
  await cast.check(`input[name="ingest"][value="${ingest}"]`);
  await cast.click('#go-live');
  out.broadcastMessage = await waitText(cast, '#message', /You are live|refused|wrong|could not|lost|ended/i, 30000);
  out.broadcastState = await waitText(cast, '#state', /^Live$/, 5000);
  mark('live');

  // --- the watch page plays, counts itself once
  const watch = pages.watch = await openPage(browser, `${base}/watch/${out.id}`, 'watch', errors);
  out.watchAdvanced = await watch.evaluate(() => new Promise((resolve) => {
    const v = document.getElementById('video');
    let start = null;
    const deadline = Date.now() + 40000;
    const tick = setInterval(() => {
      if (start === null && v.currentTime > 0) start = v.currentTime;
      const advanced = start === null ? 0 : v.currentTime - start;
      if (advanced >= 2 || Date.now() > deadline) {
        clearInterval(tick);
        resolve(advanced);
      }
    }, 200);
  }));
  mark('played');
  out.watchViewers = await waitText(watch, '#viewers', /^1$/, 15000);
  out.watchBadge = await waitText(watch, '#badge', /^LIVE$/, 10000);
  out.watchLive = await watch.locator('#badge').evaluate((b) => b.classList.contains('live'));
  out.watchLatency = await waitText(watch, '#latency', /s behind live/, 10000);
  out.watchQuality = await watch.locator('#quality option').allTextContents();
  out.watchMode = await watch.locator('#mode').textContent();
  out.watchModeNote = await watch.locator('#mode-note').textContent();
  out.dashboardViewers = await waitText(dash, `${row} .col-viewers`, /^1$/, 15000);
  out.dashboardState = await waitText(dash, `${row} .col-state`, /Live/);
  out.dashboardIngest = await waitText(dash, `${row} .col-ingest`, /WHIP|WebSocket/);
  out.dashboardBitrate = await waitText(dash, `${row} .col-bitrate`, /b\/s/, 10000);
  out.dashboardFps = await dash.locator(`${row} .col-fps`).textContent();
  out.dashboardHealth = await waitText(dash, `${row} .col-health`, /good|fair|poor|stalled/, 10000);
  out.broadcastViewers = await waitText(cast, '#viewers', /^1$/, 10000);
  out.broadcastHealth = await waitText(cast, '#health', /good|fair|poor|stalled/, 10000);
  out.broadcastDuration = await cast.locator('#duration').textContent();
  mark('counted');
  await shoot(dash, dir, `${ingest}-dashboard-live`);
  await shoot(cast, dir, `${ingest}-broadcast-live`);
  await shoot(watch, dir, `${ingest}-watch-live`);

  // --- the dashboard ends it; every page says so
  const end = dash.locator(`${row} button.end`);
  await end.click();
  await waitText(dash, `${row} button.end`, /Confirm end/, 2000);
  await end.click();
  out.dashboardEnded = await waitText(dash, `${row} .col-state`, /Ended/, 30000);
  out.broadcastEnded = await waitText(cast, '#state', /Ended/, 15000);
  out.broadcastEndedMessage = await cast.locator('#message').textContent();
  out.watchEnded = await waitText(watch, '#overlay', /ended/, 15000);
  out.watchBadgeEnded = await waitText(watch, '#badge', /ENDED/, 5000);
  mark('ended');
  await shoot(dash, dir, `${ingest}-dashboard-ended`);
  await shoot(cast, dir, `${ingest}-broadcast-ended`);
  await shoot(watch, dir, `${ingest}-watch-ended`);
  return out;
}

run(async () => {
  const { browser, close } = await launch();
  const pages = {};
  try {
    return await flow(browser, pages);
  } catch (e) {
    // what each page showed when it went wrong
    for (const [name, page] of Object.entries(pages)) await shoot(page, dir, `${ingest}-FAILED-${name}`).catch(() => {});
    throw e;
  } finally {
    await close();
  }
}, 150000);
