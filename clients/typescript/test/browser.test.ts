import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../test/helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from './helpers/bundle.js';
import { startLiveApi, type LiveApi } from './helpers/live-api.js';


/** A page origin of its own: an index page and the bundled client, nothing else. */
async function servePage(bundle: string): Promise<{ origin: string; close(): Promise<void> }> {
  const script = await readFile(bundle);
  const server: Server = createServer((req, res) => {
    if (req.url === '/jobs-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      return;
    }
    // The app's own module loads the client, as a web app's bundle would.
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><title>another service</title><p>a web app on its own origin</p>
<script type="module">import { createJobsClient } from '/jobs-client.js'; window.createJobsClient = createJobsClient;</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    // `localhost` against the API's `127.0.0.1`: another origin, as the browser sees it.
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type PageResult = { ok: true; id: string } | { ok: false; name: string; status: number; field?: string; requestId?: string; type: string };

/** Runs `enqueue` inside the page with the bundled client, as a web app would. */
function enqueueFromPage(page: Page, baseUrl: string, token: string | undefined, payload: unknown): Promise<PageResult> {
  return page.evaluate(
    async ({ baseUrl, token, payload }) => {
      const { createJobsClient } = window as unknown as { createJobsClient: typeof import('../src/index.js').createJobsClient };
      const jobs = createJobsClient({ baseUrl, retries: 0, ...(token ? { token } : {}) });
      try {
        const { id } = await jobs.enqueue('echo', payload as { message: string });
        return { ok: true as const, id };
      } catch (err) {
        const e = err as { name: string; status: number; field?: string; requestId?: string; type: string };
        return { ok: false as const, name: e.name, status: e.status, type: e.type, ...(e.field ? { field: e.field } : {}), ...(e.requestId ? { requestId: e.requestId } : {}) };
      }
    },
    { baseUrl, token, payload },
  );
}

/** An OPTIONS preflight as a browser sends it before a cross-origin POST with a token. */
const preflight = (url: string, origin: string) =>
  fetch(`${url}/api/admin/job`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
  });

// SPEC §16: the client runs in browsers. With CORS_ORIGINS naming the page's origin, a page on
// another origin enqueues through the API with its token; without it the browser is refused.
describe('@jobs/client in Chromium, cross-origin', () => {
  let bundle: { dir: string; file: string };
  let page: { origin: string; close(): Promise<void> };
  let withCors: LiveApi;
  let withoutCors: LiveApi;
  let browser: Browser;

  beforeAll(async () => {
    bundle = await bundleForBrowser();
    page = await servePage(bundle.file);
    [withCors, withoutCors, browser] = await Promise.all([
      startLiveApi({ auth: true, env: { CORS_ORIGINS: `https://elsewhere.example,${page.origin}` } }),
      startLiveApi({ auth: true }),
      launchChromium(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await withCors?.close();
    await withoutCors?.close();
    await page?.close();
    if (bundle) await rm(bundle.dir, { recursive: true, force: true });
  });

  it('the browser bundle needs nothing from Node', async () => {
    const code = await readFile(bundle.file, 'utf8');
    expect(code).not.toMatch(/from\s+['"]node:|require\(/);
    expect(code).toContain('createJobsClient');
  });

  it('with CORS_ORIGINS naming the page: enqueue from the page adds the job; errors keep their problem fields and request id', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(page.origin);
      await tab.waitForFunction(() => 'createJobsClient' in window);
      const result = await enqueueFromPage(tab, withCors.url, withCors.token, { message: 'from the browser' });
      expect(result).toMatchObject({ ok: true, id: expect.any(String) });
      const job = await withCors.t.deps.jobs.queue.getJob((result as { id: string }).id);
      expect(job?.data).toMatchObject({ type: 'adhoc', payload: { message: 'from the browser' } });

      // The problem body and the exposed X-Request-Id reach the page's code.
      const bad = await enqueueFromPage(tab, withCors.url, withCors.token, { message: 7 });
      expect(bad).toMatchObject({ ok: false, name: 'JobsApiError', status: 400, field: 'body.payload.message', requestId: expect.any(String) });
    } finally {
      await tab.close();
    }
  }, 60_000);

  it('without CORS_ORIGINS the browser refuses the call (a JobsNetworkError in the page) and no job is added', async () => {
    const tab = await browser.newPage();
    try {
      await tab.goto(page.origin);
      await tab.waitForFunction(() => 'createJobsClient' in window);
      const result = await enqueueFromPage(tab, withoutCors.url, withoutCors.token, { message: 'blocked' });
      expect(result).toMatchObject({ ok: false, name: 'JobsNetworkError', status: 0, type: 'urn:jobs:client:network-error' });
      expect(await withoutCors.jobCount()).toBe(0);
    } finally {
      await tab.close();
    }
  }, 60_000);

  it('preflights: allowed origin gets the CORS headers; without CORS_ORIGINS, or from another origin, none', async () => {
    const allowed = await preflight(withCors.url, page.origin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(page.origin);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const off = await preflight(withoutCors.url, page.origin);
    expect(off.headers.get('access-control-allow-origin')).toBeNull();
    expect([...off.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);

    const stranger = await preflight(withCors.url, 'https://attacker.example');
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();

    // A plain cross-origin answer from the CORS-enabled API exposes what the client reads.
    const res = await fetch(`${withCors.url}/api/admin/job/none`, { headers: { origin: page.origin, authorization: `Bearer ${withCors.token}` } });
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('x-request-id');
  });
});
