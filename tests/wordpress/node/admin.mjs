// The admin in headless Chromium, for tests/wordpress: logs in, then takes
// the steps it is given, one after another, in one browser session.
//
//   node admin.mjs '{"base": ..., "out": DIR, "chromium": "/usr/bin/chromium",
//                    "admin_user": ..., "admin_password": ..., "steps": [STEP, ...]}'
//
// STEP is one of
//   {"goto": "/wp-admin/..."}                      load a page
//   {"click": "CSS"}                               click, and wait for the page it loads
//   {"shot": "NAME.png", "of": "CSS"}              a screenshot of an element (or of the page
//                                                  without "of") into DIR
//   {"text": "CSS", "as": "KEY"}                   the element's text, printed under KEY
//
// Debian's Chromium (never a downloaded one), driven by playwright-core over
// CDP, with a fresh --user-data-dir. Prints one JSON line: the texts, the
// URL each step ended on, and the page's script errors.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const a = JSON.parse(process.argv[2]);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

const dir = mkdtempSync(join(tmpdir(), 'thresh-chromium-'));
const out = { texts: {}, urls: [], page_errors: [] };
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: a.chromium, headless: true, args: ARGS,
  viewport: { width: 1280, height: 900 }, timeout: 60000,
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => out.page_errors.push(String(e)));
  await page.goto(a.base + '/wp-login.php', { waitUntil: 'load' });
  await page.fill('#user_login', a.admin_user);
  await page.fill('#user_pass', a.admin_password);
  await Promise.all([page.waitForURL(/wp-admin/, { waitUntil: 'load' }), page.click('#wp-submit')]);
  for (const s of a.steps) {
    if (s.goto) {
      await page.goto(a.base + s.goto, { waitUntil: 'load' });
    } else if (s.click) {
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(s.click)]);
    } else if (s.shot) {
      const path = join(a.out, s.shot);
      if (s.of)
        await page.locator(s.of).screenshot({ path });
      else
        await page.screenshot({ path, fullPage: false });
    } else if (s.text) {
      out.texts[s.as] = await page.locator(s.text).innerText();
    }
    out.urls.push(page.url());
  }
} finally {
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
