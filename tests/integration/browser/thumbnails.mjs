// A live stream's thumbnail on castline's pages:
//   node thumbnails.mjs --base http://127.0.0.1:PORT --id ID --artifacts DIR
// The dashboard's row of stream ID shows an <img> that loads (its natural
// size), and asks again for a new picture every few seconds (its src
// changes); the watch page's <video> has the thumbnail as its poster.
// Screenshots of the dashboard go to DIR as thumbnails-dashboard-*.png.
// Prints one JSON line of what the pages showed (see `out` below).
import { parseArgs, launch, run } from './chromium.mjs';
import { openPage, shoot } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.base.replace(/\/$/, '');

async function main() {
  const { browser, close } = await launch();
  const errors = [];
  const out = { errors };
  try {
    const dash = await openPage(browser, `${base}/`, 'dashboard', errors);
    const img = dash.locator(`#streams tr[data-stream="${args.id}"] img.thumbnail`);
    await img.waitFor({ state: 'attached', timeout: 20000 });
    await dash.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(),
        { timeout: 20000 });
    const first = await img.evaluate((el) => ({ src: el.src, width: el.naturalWidth, height: el.naturalHeight,
      shown: el.getBoundingClientRect().width }));
    out.dashboard = first;
    out.screenshots = await shoot(dash, args.artifacts, 'thumbnails-dashboard');
    // the next refresh: a new query, so a new request
    await dash.waitForFunction(([el, src]) => el.src !== src && el.complete && el.naturalWidth > 0,
        [await img.elementHandle(), first.src], { timeout: 12000 });
    out.refreshedSrc = await img.evaluate((el) => el.src);

    const watch = await openPage(browser, `${base}/watch/${args.id}`, 'watch', errors);
    await watch.waitForFunction(() => document.querySelector('#video').poster !== '', null, { timeout: 15000 });
    out.poster = await watch.evaluate(() => document.querySelector('#video').poster);
    // the poster is a picture the browser can load
    out.posterSize = await watch.evaluate(async (url) => {
      const i = new Image();
      i.src = url;
      await i.decode();
      return [i.naturalWidth, i.naturalHeight];
    }, out.poster);
  } finally {
    await close();
  }
  return out;
}

run(main, 90000);
