import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSS_PATH } from '../src/console/assets/console-css.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const creds = { BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 's3cret-pass' };
const NON_LOCAL = { APP_ENV: 'staging', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', WEBHOOK_SIGNING_KEY_FILE: '/unused', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' };
const PAGES = ['/console', '/console/cron', '/console/queues', CONSOLE_CSS_PATH];

/** SPEC §17: the console follows BullBoard's access rules (§9), in-process. The browser flows are in console-*-browser tests. */
describe('console access', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('local without credentials: open; /console goes to the cron jobs; pages carry a strict CSP; the stylesheet is cached long', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const landing = await t.call('GET', '/console');
    expect(landing.status).toBe(302);
    expect(landing.headers.get('location')).toBe('/console/cron');
    expect((await t.call('GET', '/console/')).status).toBe(302);
    const page = await t.call('GET', '/console/cron');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*style-src 'self'.*form-action 'self'.*frame-ancestors 'none'/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain(`href="${CONSOLE_CSS_PATH}"`);
    const css = await t.call('GET', CONSOLE_CSS_PATH);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(css.headers.get('cache-control')).toMatch(/max-age=31536000/);
    const missing = await t.call('GET', '/console/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('non-local without credentials: not mounted (404), with a warning at start', async () => {
    t = await createTestApp({ env: NON_LOCAL });
    for (const path of PAGES) expect((await t.call('GET', path)).status, path).toBe(404);
    expect(t.lines.some((l) => l.level === 40 && /console is disabled/.test(l.msg))).toBe(true);
  });

  it.each([
    ['non-local', NON_LOCAL],
    ['local', { APP_ENV: 'local' }],
  ])('%s with credentials: basic auth with BullBoard credentials on every page; wrong password 401', async (_name, env) => {
    t = await createTestApp({ env: { ...env, ...creds } });
    for (const path of PAGES) {
      const anonymous = await t.call('GET', path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="BullBoard"/);
      expect(anonymous.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect((await t.call('GET', path, undefined, { headers: basic('ops', 'wrong') })).status, path).toBe(401);
      expect((await t.call('GET', path, undefined, { headers: basic('ops', 's3cret-pass') })).status, path).toBeLessThan(400);
    }
  });

  it('admin bearer tokens do not open the console', async () => {
    t = await createTestApp({ auth: true, env: { ...NON_LOCAL, ...creds } });
    const token = await mintToken({ scope: 'jobs:admin' });
    expect((await t.call('GET', '/console/cron', undefined, { token })).status).toBe(401);
  });

  it('a cross-origin form post is refused with 403 before basic auth or the page sees it', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const foreign = await t.app.request('/console/queues/jobs/pause', { method: 'POST', body: '', headers: { ...form, origin: 'http://attacker.test', 'sec-fetch-site': 'cross-site' } });
    expect(foreign.status).toBe(403);
    expect(await t.deps.jobs.queues.get('jobs')!.isPaused()).toBe(false);
  });

  it('a form body over 1 MiB is refused with 413 before it is read', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const body = `name=${'x'.repeat(1024 * 1024 + 1)}`;
    const res = await t.app.request('/console/cron', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' } });
    expect(res.status).toBe(413);
    expect(await t.database.db.selectFrom('cron_job').select('id').execute()).toEqual([]);
  });
});
