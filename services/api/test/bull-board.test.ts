import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
const creds = { BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 's3cret-pass' };
const NON_LOCAL = { APP_ENV: 'staging', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', WEBHOOK_SIGNING_KEY_FILE: '/unused', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' };

describe('BullBoard access (seed rules)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('local without credentials: open, and its assets load under /bullBoard', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const page = await t.call('GET', '/bullBoard');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(t.lines.some((l) => l.level === 40 && /BullBoard is open/.test(l.msg))).toBe(true);
    // Assets are relative to <base href="/bullBoard/">, so the board works behind a path prefix.
    expect(html).toContain('<base href="/bullBoard/" />');
    const assets = [...html.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => new URL(m[1]!, 'http://x/bullBoard/').pathname);
    expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThan(0);
    for (const asset of assets) expect((await t.call('GET', asset)).status, asset).toBe(200);
    expect((await t.call('GET', '/bullBoard/')).status).toBe(200);
    const queues = await t.call('GET', '/bullBoard/api/queues');
    expect(queues.status).toBe(200);
    expect(((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(['jobs']);
  });

  it('non-local without credentials: not mounted (404), with a warning at start', async () => {
    t = await createTestApp({ env: NON_LOCAL });
    expect((await t.call('GET', '/bullBoard')).status).toBe(404);
    expect((await t.call('GET', '/bullBoard/api/queues')).status).toBe(404);
    expect(t.lines.some((l) => l.level === 40 && /BullBoard is disabled/.test(l.msg))).toBe(true);
  });

  it.each([
    ['non-local', NON_LOCAL],
    ['local', { APP_ENV: 'local' }],
  ])('%s with credentials: basic auth on the page, assets and API; wrong password 401', async (_name, env) => {
    t = await createTestApp({ env: { ...env, ...creds } });
    for (const path of ['/bullBoard', '/bullBoard/', '/bullBoard/api/queues']) {
      const anonymous = await t.call('GET', path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="BullBoard"/);
      expect((await t.call('GET', path, undefined, { headers: basic('ops', 'wrong') })).status, path).toBe(401);
      expect((await t.call('GET', path, undefined, { headers: basic('ops', 's3cret-pass') })).status, path).toBe(200);
    }
  });

  it('admin bearer tokens do not open BullBoard, and BullBoard credentials do not open the admin API', async () => {
    t = await createTestApp({ auth: true, env: { ...NON_LOCAL, ...creds } });
    const token = await mintToken({ scope: 'jobs:admin' });
    expect((await t.call('GET', '/bullBoard', undefined, { token })).status).toBe(401);
    expect((await t.call('GET', '/api/admin/handler', undefined, { headers: basic('ops', 's3cret-pass') })).status).toBe(401);
  });
});
