// A visitor and the admin in headless Chromium, for tests/wordpress.
//
//   node browser.mjs '{"base": ..., "post": ..., "out": DIR, "chromium": "/usr/bin/chromium",
//                      "author": ..., "email": ..., "comment": ...,
//                      "admin_user": ..., "admin_password": ...}'
//
// Debian's Chromium (never a downloaded one), driven by playwright-core over
// CDP, each user with a fresh --user-data-dir. The visitor loads the post,
// lets its scripts run (Akismet's inline script sets the hidden ak_js field
// to the time), fills the comment form by typing and submits it. The admin
// logs in through wp-login.php and looks at wp-admin/edit-comments.php.
// Screenshots go to DIR. Prints one JSON line: what the page had and where
// the browser ended up.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const a = JSON.parse(process.argv[2]);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

async function user(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'thresh-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: a.chromium, headless: true, args: ARGS,
    viewport: { width: 1280, height: 900 }, timeout: 60000,
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(30000);
    return await fn(page);
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const out = {};
await user(async (page) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(a.post, { waitUntil: 'load' });
  await page.waitForFunction(() => {
    const f = document.querySelector('input[name="ak_js"]');
    return f && f.value.length >= 13;
  });
  out.ak_js = await page.inputValue('input[name="ak_js"]');
  await page.locator('#comment').click();
  await page.keyboard.type(a.comment, { delay: 2 });
  await page.fill('#author', a.author);
  await page.fill('#email', a.email);
  await Promise.all([
    page.waitForURL((u) => u.toString() !== a.post, { waitUntil: 'load' }),
    page.click('#submit'),
  ]);
  out.after = page.url();
  out.page_errors = errors;
  await page.screenshot({ path: join(a.out, 'post-after-comment.png'), fullPage: false });
});
await user(async (page) => {
  await page.goto(a.base + '/wp-login.php', { waitUntil: 'load' });
  await page.fill('#user_login', a.admin_user);
  await page.fill('#user_pass', a.admin_password);
  await Promise.all([page.waitForURL(/wp-admin/, { waitUntil: 'load' }), page.click('#wp-submit')]);
  await page.goto(a.base + '/wp-admin/edit-comments.php', { waitUntil: 'load' });
  out.admin_title = await page.title();
  out.admin_rows = await page.locator('#the-comment-list tr').count();
  await page.screenshot({ path: join(a.out, 'admin-comments.png'), fullPage: false });
});
console.log(JSON.stringify(out));
