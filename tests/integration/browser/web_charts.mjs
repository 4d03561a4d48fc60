// The charts of the dashboard and of the stream page (web/streamcharts.js)
// in Chromium, with two live streams (--ids A,B) the test publishes. In
// steps the test drives over stdin/stdout, since it makes A interrupted
// and live again meanwhile:
//   1. the dashboard draws both streams' charts and their data grows as
//      stats arrive; the stream page of A draws its charts, starting with
//      the history (points older than the page);
//   -> prints "step ready"; waits for the line "interrupted" (A is)
//   2. both pages mark it from the live state event;
//   -> prints "step marked"; waits for "resumed" (A is live again)
//   3. the charts grow again, the interruption is shaded (pixels read off
//      the canvas, inside and before the band); the stream page loaded
//      again gets the interruption from the server's history; the cursor
//      over one chart reads the same moment on all five; screenshots of
//      the dashboard and the stream page into --artifacts;
//   -> prints "step checked"; waits for "ended" (B, recorded, is)
//   4. B's page lists its recording (the watch page plays it) and charts
//      its last minutes up to the end.
// Prints one JSON line of what it saw; every wait is bounded.
import readline from 'node:readline';
import { launch, parseArgs, run } from './chromium.mjs';
import { openPage, shoot } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const [A, B] = String(args.ids).split(',');

const lines = [];
let lineWaiter = null;
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  lines.push(l.trim());
  if (lineWaiter) lineWaiter();
});

async function waitLine(want, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!lines.includes(want)) {
    if (Date.now() > deadline) throw new Error(`the test never said "${want}" within ${timeoutMs} ms`);
    await new Promise((resolve) => {
      lineWaiter = resolve;
      setTimeout(resolve, 500);
    });
  }
}

function step(name) {
  console.log(`step ${name}`);
}

// the number of points a stream's charts hold (the bitrate chart's x values)
const points = (page, id) => page.evaluate((sid) => {
  const c = window.castlineCharts && window.castlineCharts.get(sid);
  return c ? c.plots.bitrate.data[0].length : 0;
}, id);

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

// waits until a stream's charts hold more than `than` points; how many
async function grows(page, id, than, timeoutMs = 20000) {
  return waitFor(`${page.url()}: the charts of ${id} grow past ${than}`, async () => {
    const n = await points(page, id);
    return n > than ? n : 0;
  }, timeoutMs);
}

// What a stream's charts show: the states marked, the count of charts
// drawn, the newest bitrate, and the colour of the bitrate chart's canvas
// inside the last interruption and as far before it (where the stream was
// live), a few heights down the plot: [r, g, b] each, over white.
const readCharts = (page, id) => page.evaluate(async (sid) => {
  const c = window.castlineCharts.get(sid);
  c.update();
  await new Promise((r) => setTimeout(r, 100));     // uPlot draws in a microtask
  const u = c.plots.bitrate;
  const spans = c.series.interruptions(Date.now() / 1000);
  const pixels = (t) => {
    const x = Math.round(u.valToPos(t, 'x', true));
    if (x <= u.bbox.left || x >= u.bbox.left + u.bbox.width) return [];
    // the canvas is transparent: over the page's white, as shown
    return [0.1, 0.3, 0.5, 0.7, 0.9].map((f) => {
      const [r, g, b, a] = u.ctx.getImageData(x, Math.round(u.bbox.top + f * u.bbox.height), 1, 1).data;
      return [r, g, b].map((v) => Math.round((v * a + 255 * (255 - a)) / 255));
    });
  };
  const last = spans[spans.length - 1];
  return {
    marks: c.series.marks.map((m) => m.state),
    charts: Object.keys(c.plots).length,
    canvases: c.root.querySelectorAll('canvas').length,
    bitrate: c.series.latest('bitrate'),
    firstPointAge: c.series.t.length ? Date.now() / 1000 - c.series.t[0] : null,
    band: last ? {
      seconds: last[1] - last[0],
      pixelsWide: (u.valToPos(last[1], 'x') - u.valToPos(last[0], 'x')),
      inside: pixels((last[0] + last[1]) / 2),
      before: pixels(last[0] - (last[1] - last[0]) / 2 - 1),
    } : null,
  };
}, id);

async function main() {
  const { browser, close } = await launch();
  const errors = [];
  const out = { errors, screenshots: [] };
  try {
    const base = args.base;
    // 1. the dashboard, both streams
    const dash = await openPage(browser, `${base}/`, 'dashboard', errors);
    out.dashboardStart = {};
    for (const id of [A, B]) out.dashboardStart[id] = await grows(dash, id, 0);
    out.dashboardGrown = {};
    for (const id of [A, B]) out.dashboardGrown[id] = await grows(dash, id, out.dashboardStart[id] + 2);
    out.dashboardRows = await dash.locator('#streams tr.charts').count();
    out.dashboardLinks = await dash.locator('#streams a.title').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    out.dashboardCharts = await readCharts(dash, A);

    const page = await openPage(browser, `${base}/streams/${A}`, 'stream', errors);
    out.streamStart = await grows(page, A, 0);
    out.streamCharts = await readCharts(page, A);
    out.streamFacts = await page.locator('#facts dt').allTextContents();
    out.streamUrls = await page.locator('#urls dt').allTextContents();
    out.streamGrown = await grows(page, A, out.streamStart + 1);
    step('ready');

    // 2. A interrupted: both pages mark it from the state event
    await waitLine('interrupted', 60000);
    const marked = (p) => waitFor(`${p.url()}: interrupted marked`, async () => {
      const r = await readCharts(p, A);
      return r.marks.includes('interrupted') ? r : null;
    }, 15000);
    out.dashboardMarked = (await marked(dash)).marks;
    out.streamMarked = (await marked(page)).marks;
    out.streamState = (await page.locator('#state').textContent()).trim();
    step('marked');

    // 3. A live again
    await waitLine('resumed', 60000);
    const before = await points(page, A);
    out.streamAfterResume = await grows(page, A, before + 2);
    out.dashboardAfterResume = await grows(dash, A, await points(dash, A) + 1);
    out.streamBand = await readCharts(page, A);
    out.dashboardBand = await readCharts(dash, A);
    // the cursor over the bitrate chart: every card reads that moment
    const over = page.locator('.chart-card[data-series="bitrate"] .u-over');
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    await page.waitForTimeout(200);
    out.streamHover = await page.locator('.chart-value').allTextContents();
    out.screenshots.push(...await shoot(page, args.artifacts, 'charts-stream'));
    out.screenshots.push(...await shoot(dash, args.artifacts, 'charts-dashboard'));

    // a new connection: the interruption comes from the server's history
    await page.reload();
    out.reloadedStart = await grows(page, A, 0);
    out.reloaded = await readCharts(page, A);
    step('checked');

    // 4. B (recorded) ended: its page lists the recording, and its charts
    // end with a dashed line
    await waitLine('ended', 60000);
    const ended = await openPage(browser, `${base}/streams/${B}`, 'stream-ended', errors);
    const watch = ended.locator('#recordings a.watch-recording').first();
    await watch.waitFor({ timeout: 45000 });
    out.endedRecording = await watch.getAttribute('href');
    out.endedState = (await ended.locator('#state').textContent()).trim();
    out.endedCharts = await readCharts(ended, B);
    out.screenshots.push(...await shoot(ended, args.artifacts, 'charts-stream-ended'));
  } finally {
    await close();
  }
  return out;
}

run(main, 170000);
