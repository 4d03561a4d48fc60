// What the drivers of castline's own pages (web/) share: bounded waits on
// what a page shows, screenshots at a desktop and a phone width, and the
// console errors (CSP violations included) a page logs.
import fs from 'node:fs';
import path from 'node:path';

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

// Waits until the text of `selector` matches `re`; that text. On time-out
// an error naming what was shown instead.
export async function waitText(page, selector, re, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null);
    if (last !== null && re.test(last.trim())) return last.trim();
    await page.waitForTimeout(200);
  }
  throw new Error(`${page.url()}: ${selector} never matched ${re} within ${timeoutMs} ms (it showed ${JSON.stringify(last)})`);
}

// The full page as a desktop and as a phone shows it, into dir as
// <name>-desktop.png and <name>-phone.png; the paths.
export async function shoot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const files = [];
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);        // layout and the video's box settle
    const file = path.join(dir, `${name}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  await page.setViewportSize(DESKTOP);
  return files;
}

// Collects a page's uncaught errors, console errors (a CSP refusal is one)
// and answers of 400 and up (path only: a query may hold a stream key; not
// a hinted LL-HLS part's 404)
// into `into`, each prefixed with the page's name. The console's "Failed
// to load resource" lines are left out: the answers name what failed.
export function watchConsole(page, name, into) {
  page.on('pageerror', (e) => into.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) into.push(`${name}: ${m.text()}`);
  });
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    // a 404 for an LL-HLS part is the preload hint of a stream that ended
    // before making it (the server answers 404 then, and hls.js moves on);
    // the parts a playlist lists are checked by test_launcher_llhls.py
    if (r.status() === 404 && /\.\d+\.m4s$/.test(path)) return;
    if (r.status() >= 400) into.push(`${name}: ${r.status()} ${r.request().method()} ${path}`);
  });
}

export async function openPage(browser, url, name, errors) {
  const page = await browser.newPage();
  await page.setViewportSize(DESKTOP);
  watchConsole(page, name, errors);
  await page.goto(url);
  return page;
}

// Seconds of media the page's #video plays from now (counted once it
// plays with data ahead), waiting at most boundMs.
export function advances(page, seconds, boundMs) {
  return page.evaluate(([want, bound]) => new Promise((resolve) => {
    const v = document.getElementById('video');
    let start = null;
    const deadline = Date.now() + bound;
    const tick = setInterval(() => {
      if (start === null && v.currentTime > 0 && !v.paused && v.readyState >= 3) start = v.currentTime;
      const advanced = start === null ? 0 : v.currentTime - start;
      if (advanced >= want || Date.now() > deadline) {
        clearInterval(tick);
        resolve(advanced);
      }
    }, 100);
  }), [seconds, boundMs]);
}
