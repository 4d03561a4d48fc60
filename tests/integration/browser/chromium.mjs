// Shared by the browser test drivers: headless Debian Chromium through
// playwright-core with the flags ../shared/FACTS.md lists, and a page served
// from http://127.0.0.1 (a secure context, as getUserMedia needs).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const name = argv[i].slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args[name] = true;
    else { args[name] = next; i++; }
  }
  return args;
}

// Serves `html` at / and the files of `files` ({urlPath: filePath}).
export async function servePage(html, files = {}) {
  const server = http.createServer((req, res) => {
    const url = req.url.split('?')[0];
    if (url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(html);
    } else if (files[url]) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      fs.createReadStream(files[url]).pipe(res);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

// extraArgs come last: a repeated switch takes the later value (the
// broadcast page's camera-refused test passes --use-fake-ui-for-media-stream=deny)
export async function launch(extraArgs = []) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'castline-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns', ...extraArgs],
  });
  const close = async () => {
    await browser.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { browser, close, userDataDir };
}

// SIGKILLs a browser from launch() with no goodbye (as a crash or a pulled
// plug would): its main process, found by its own user-data dir; its
// children go with it. The pids killed.
export function killHard(userDataDir) {
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.includes(`--user-data-dir=${userDataDir}`) && !cmd.some((a) => a.startsWith('--type='))) {
      process.kill(Number(pid), 'SIGKILL');
      pids.push(Number(pid));
    }
  }
  return pids;
}

// Opens `html` (served with `files`) in a fresh Chromium and returns what
// the page's window[fn](opts) resolves to.
export async function evaluateInPage(html, fn, opts, files = {}) {
  const { server, url } = await servePage(html, files);
  const { browser, close } = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    return await page.evaluate(([name, o]) => window[name](o), [fn, opts]);
  } finally {
    await close();
    server.close();
  }
}

// Runs main() with a hard bound; prints its result as one JSON line.
export function run(main, boundMs) {
  const timer = setTimeout(() => {
    console.error(`driver: no result within ${boundMs} ms`);
    process.exit(3);
  }, boundMs);
  main().then((result) => {
    clearTimeout(timer);
    console.log(JSON.stringify(result));
    process.exit(0);
  }, (err) => {
    clearTimeout(timer);
    console.error(`driver: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}
