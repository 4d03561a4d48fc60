// The broadcast page coming back after its WebSocket drops, and the watch
// page following it:
//   node web_reconnect.mjs --base http://127.0.0.1:PORT --id ID --key KEY --artifacts DIR
// The broadcast page goes live over the WebSocket ingest, the watch page
// plays; then the page's socket is closed under it (code 4000, no
// stop-stream: a drop, as a lost network makes), found through a
// WebSocket constructor wrapped before the page loads. The page should
// say it is reconnecting, go live again by itself, the watch page play
// again; then "Stop" ends the stream. Screenshot broadcast-reconnecting-desktop.png.
// Prints one JSON line: {reconnecting, liveAgain, playedBefore,
// playedAfter, stopped, watchEnded, errors}.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, launch, run } from './chromium.mjs';
import { advances, openPage, waitText } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.base.replace(/\/$/, '');

run(async () => {
  const { browser, close } = await launch();
  const out = { errors: [] };
  try {
    const context = browser;
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      window.__castlineSockets = [];
      window.WebSocket = class extends Native {
        constructor(...a) {
          super(...a);
          window.__castlineSockets.push(this);
        }
      };
    });
    const cast = await openPage(context, `${base}/broadcast/${args.id}#key=${encodeURIComponent(args.key)}`,
        'broadcast', out.errors);
    await cast.check('input[name="ingest"][value="websocket"]');
    await cast.click('#go-live');
    await waitText(cast, '#message', /You are live/, 20000);
    const watch = await openPage(context, `${base}/watch/${args.id}`, 'watch', out.errors);
    out.playedBefore = await advances(watch, 2, 30000);

    await cast.evaluate(() => window.__castlineSockets.at(-1).close(4000, 'test: network lost'));
    out.reconnecting = await waitText(cast, '#message', /Reconnecting/, 10000);
    out.stateWhileReconnecting = await cast.locator('#state').textContent();
    // at once, desktop only: the first retry comes 1 s after the drop
    fs.mkdirSync(args.artifacts, { recursive: true });
    await cast.screenshot({ path: path.join(args.artifacts, 'broadcast-reconnecting-desktop.png') });
    out.liveAgain = await waitText(cast, '#message', /You are live/, 40000);
    out.sockets = await cast.evaluate(() => window.__castlineSockets.length);
    out.playedAfter = await advances(watch, 2, 40000);

    await cast.click('#stop');
    out.stopped = await waitText(cast, '#message', /stopped/i, 15000);
    out.watchEnded = await waitText(watch, '#overlay', /ended/, 15000);
    return out;
  } finally {
    await close();
  }
}, 150000);
