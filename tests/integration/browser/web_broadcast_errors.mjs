// What the broadcast page says when it cannot go live:
//   node web_broadcast_errors.mjs --base http://127.0.0.1:PORT --id ID --case wrong-key|camera-refused
//        --artifacts DIR
// wrong-key: the page with a wrong key in its fragment tries WHIP, then the
// WebSocket; camera-refused: Chromium's fake permission prompt answers
// "deny" (a denied permission set through CDP is overridden by the fake
// UI) and "Start camera" is pressed. Screenshots broadcast-<case>-*.png into DIR. Prints
// one JSON line: {messages: {whip, websocket} | {camera}, state, errors}.
import { parseArgs, launch, run } from './chromium.mjs';
import { openPage, shoot, waitText } from './web_pages.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.base.replace(/\/$/, '');
const FAILURE = /wrong|refused|could not|lost|ended|limit|no camera/i;

async function wrongKey(browser, out) {
  const page = await openPage(browser, `${base}/broadcast/${args.id}#key=not-the-key`, 'broadcast', out.errors);
  for (const ingest of ['whip', 'websocket']) {
    await page.check(`input[name="ingest"][value="${ingest}"]`);
    await page.click('#go-live');
    out.messages[ingest] = await waitText(page, '#message', FAILURE, 20000);
    // the next attempt starts from a clean message
    await page.evaluate(() => { document.getElementById('message').textContent = ''; });
  }
  out.state = await page.locator('#state').textContent();
  // shown again for the screenshot
  await page.check('input[name="ingest"][value="whip"]');
  await page.click('#go-live');
  await waitText(page, '#message', FAILURE, 20000);
  return page;
}

async function cameraRefused(browser, out) {
  const page = await openPage(browser, `${base}/broadcast/${args.id}`, 'broadcast', out.errors);
  await page.click('#start-media');
  out.messages.camera = await waitText(page, '#message', FAILURE, 10000);
  out.state = await page.locator('#state').textContent();
  return page;
}

run(async () => {
  const { browser, close } = await launch(args.case === 'camera-refused' ? ['--use-fake-ui-for-media-stream=deny'] : []);
  const out = { messages: {}, errors: [] };
  try {
    const page = await (args.case === 'wrong-key' ? wrongKey : cameraRefused)(browser, out);
    await shoot(page, args.artifacts, `broadcast-${args.case}`);
    return out;
  } finally {
    await close();
  }
}, 60000);
