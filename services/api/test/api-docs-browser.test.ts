import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../../test/helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ASSETS_PATH } from '../src/docs/docs-page.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { openApiTestHandlers } from './helpers/openapi-handlers.js';


/**
 * `/api/docs` as a production deployment serves it (bearer auth on, so only what is public
 * answers a browser without a token), over real HTTP, in Debian's Chromium.
 */
describe('API docs page (Swagger UI from the installed package)', () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp({ auth: true, handlers: openApiTestHandlers, env: { APP_ENV: 'production', DATABASE_URL: 'postgres://unused@127.0.0.1/unused', WEBHOOK_SIGNING_KEY_FILE: '/unused' } });
    server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((done) => server.once('listening', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    await t?.close();
  });

  it('serves the page with a strict CSP, and the assets from swagger-ui-dist with long cache headers, whatever the working folder', async () => {
    const admin = await t.call('GET', '/api/admin/handler');
    expect(admin.status).toBe(401); // auth is on: what follows is public by design, not by accident

    const page = await t.call('GET', '/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/); // every script is a file: no inline code for the CSP to allow
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    expect(html).toContain('/api/openapi.json');

    // The package is found from the module, not the working folder (bull-board's static root is cwd-relative).
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const bundle = await t.call('GET', `${DOCS_ASSETS_PATH}/swagger-ui-bundle.js`);
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await bundle.text()).length).toBeGreaterThan(500_000);
    } finally {
      process.chdir(cwd);
    }
    expect((await t.call('GET', `${DOCS_ASSETS_PATH}/package.json`)).status).toBe(404);
    expect((await t.call('GET', `${DOCS_ASSETS_PATH}/..%2Fpackage.json`)).status).toBe(404);
    const init = await t.call('GET', '/api/docs/init.js');
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('validatorUrl: null');
  });

  it('renders the enqueue operation and its per-handler payloads, with every request to this server', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));

    // Generous waits: Chromium parses a 1.8 MB bundle, slow on a busy 2-core CI machine.
    page.setDefaultTimeout(60_000);
    await page.goto(`${base}/api/docs`);
    const enqueue = page.locator('#operations-jobs-enqueueJob');
    await enqueue.waitFor();
    await expect(enqueue.locator('.opblock-summary-path').innerText()).resolves.toBe('/api/admin/job');
    await enqueue.locator('.opblock-summary-control').click();

    // The example body is echo's (the first variant): its payload field is there.
    const body = enqueue.locator('.opblock-section-request-body');
    await body.getByText('"message"').first().waitFor();
    // The schema view lists the variants, one per handler, each with its payload.
    await body.getByRole('tab', { name: 'Schema' }).click();
    await body.getByText('One of').first().waitFor();
    const text = await body.innerText();
    // Each handler's variant, with its payload's fields: echo's message, report's userId, billing sync's invoiceId.
    for (const shown of ['"echo"', 'message', '"report"', 'userId', '"billing sync"', 'invoiceId', 'Discriminator']) expect(text).toContain(shown);
    for (const internal of ['sendWebhook', 'webhookEventRetention', 'housekeeping']) expect(text).not.toContain(internal);

    const shots = resolve('test-results');
    mkdirSync(shots, { recursive: true });
    await enqueue.screenshot({ path: resolve(shots, 'api-docs.png') });

    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
    expect(requests).toContain(`${base}/api/openapi.json`);
    expect(problems).toEqual([]);
    await context.close();
  }, 150_000);
});
