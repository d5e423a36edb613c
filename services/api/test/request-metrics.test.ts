import { afterEach, describe, expect, it } from 'vitest';
import { startCutProxy } from '../../../test/helpers/cut-proxy.js';
import { cleanupPrefix, sleepUntil } from '../../../test/helpers/index.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

// SPEC §10: the API's own requests, by route template, method and status class, read back from
// /metrics as Prometheus scrapes it.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the text exposition format (`name{a="b",…} value`), comments skipped. */
function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

async function scrape(t: TestApp): Promise<Sample[]> {
  const res = await t.call('GET', '/metrics');
  expect(res.status).toBe(200);
  return parseSamples(await res.text());
}

/** Requests counted for these labels (the histogram's `_count`), 0 when there is no such series. */
function count(samples: Sample[], labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === 'http_server_request_duration_seconds_count' && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const routes = (samples: Sample[]) => new Set(samples.filter((s) => s.name === 'http_server_request_duration_seconds_count').map((s) => s.labels.route!));
const active = (samples: Sample[], method: string) => samples.find((s) => s.name === 'http_server_active_requests' && s.labels.method === method)?.value ?? 0;

describe('the API request metrics (http_server_request_duration_seconds, http_server_active_requests)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('counts requests by route template (ids collapsed), method and status class; unmatched paths and odd methods stay bounded', async () => {
    t = await createTestApp();
    const created = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'hi' } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await t.call('GET', `/api/admin/job/${id}`)).status).toBe(200);
    for (const missing of ['no-such-job-1', 'no-such-job-2']) expect((await t.call('GET', `/api/admin/job/${missing}`)).status).toBe(404);
    expect((await t.call('POST', '/api/admin/job', { handler: 'nope', payload: {} })).status).toBe(400);
    expect((await t.call('GET', '/no/such/route/12345')).status).toBe(404);
    expect((await t.call('PUT', `/api/admin/job/${id}`, {})).status).toBe(405);
    expect((await t.call('PROPFIND', '/healthz')).status).toBe(405);

    const samples = await scrape(t);
    expect(count(samples, { route: '/api/admin/job', method: 'POST', status_class: '2xx', service: 'api' })).toBe(1);
    expect(count(samples, { route: '/api/admin/job', method: 'POST', status_class: '4xx' })).toBe(1);
    expect(count(samples, { route: '/api/admin/job/:id', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(count(samples, { route: '/api/admin/job/:id', method: 'GET', status_class: '4xx' })).toBe(2);
    expect(count(samples, { route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(count(samples, { route: 'unmatched', method: 'PUT', status_class: '4xx' })).toBe(1);
    expect(count(samples, { route: 'unmatched', method: '_OTHER', status_class: '4xx' })).toBe(1);
    // Route templates only, never a raw path or id; methods from a fixed list.
    expect([...routes(samples)].sort()).toEqual(['/api/admin/job', '/api/admin/job/:id', 'unmatched']);
    const methods = new Set(samples.filter((s) => s.name.startsWith('http_server_')).map((s) => s.labels.method));
    expect([...methods].sort()).toEqual(['GET', 'POST', 'PUT', '_OTHER']);
    // A histogram: buckets and a sum come with the count.
    const buckets = samples.filter((s) => s.name === 'http_server_request_duration_seconds_bucket' && s.labels.route === '/api/admin/job/:id' && s.labels.status_class === '4xx');
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(2);
    expect(samples.some((s) => s.name === 'http_server_request_duration_seconds_sum' && s.labels.route === '/api/admin/job/:id')).toBe(true);
  });

  it('counts a refusal by a middleware (401) under that middleware pattern, never the raw path', async () => {
    t = await createTestApp({ auth: true });
    expect((await t.call('GET', '/api/admin/job/some-id')).status).toBe(401);
    const token = await mintToken({ scope: 'jobs:admin' });
    expect((await t.call('GET', '/api/admin/handler', undefined, { token })).status).toBe(200);
    const samples = await scrape(t);
    expect(count(samples, { route: '/api/admin/*', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(count(samples, { route: '/api/admin/handler', method: 'GET', status_class: '2xx' })).toBe(1);
    expect([...routes(samples)].join(' ')).not.toContain('some-id');
  });

  it('counts 5xx: the 503 of an enqueue once Redis is gone, and the 500 onError makes of a thrown error', async () => {
    const proxy = await startCutProxy(6379);
    try {
      t = await createTestApp({ redisUrl: `redis://127.0.0.1:${proxy.port}` });
      t.app.get('/boom/:id', () => {
        throw new Error('unexpected');
      });
      const enqueue = () => t!.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } });
      expect((await enqueue()).status).toBe(201);
      proxy.cutAfter(0); // Redis goes away with the next command sent
      expect((await enqueue()).status).toBe(503);
      await proxy.cut;
      expect((await t.call('GET', '/boom/7')).status).toBe(500);
      const samples = await scrape(t);
      expect(count(samples, { route: '/api/admin/job', method: 'POST', status_class: '2xx' })).toBe(1);
      expect(count(samples, { route: '/api/admin/job', method: 'POST', status_class: '5xx' })).toBe(1);
      expect(count(samples, { route: '/boom/:id', method: 'GET', status_class: '5xx' })).toBe(1);
    } finally {
      await proxy.close();
      // Through the proxy, the test app left its prefix behind: clear it on the real Redis.
      if (t) await cleanupPrefix(t.prefix);
    }
  });

  it('collapses everything BullBoard serves into its mount patterns', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const page = await t.call('GET', '/bullBoard');
    expect(page.status).toBe(200);
    const asset = /(?:src|href)="(static\/[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(asset).toBeDefined();
    expect((await t.call('GET', `/bullBoard/${asset}`)).status).toBe(200);
    expect((await t.call('GET', '/bullBoard/api/queues')).status).toBe(200);
    expect((await t.call('GET', '/bullBoard/api/queues/jobs/no-such-job')).status).toBeGreaterThanOrEqual(400);
    const board = [...routes(await scrape(t))].filter((r) => r.startsWith('/bullBoard'));
    expect(board.sort()).toEqual(['/bullBoard', '/bullBoard/*']);
  });

  it('counts a request in flight while it runs, and not after it ends', async () => {
    t = await createTestApp();
    let entered = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    t.app.post('/held', async (c) => {
      entered = true;
      await gate;
      return c.text('done');
    });
    const before = await scrape(t);
    expect(active(before, 'POST')).toBe(0);

    const held = t.call('POST', '/held');
    await sleepUntil(() => entered, { message: 'the held request to reach its handler' });
    // The scrape itself is a GET in flight; the held POST is the other one.
    const during = await scrape(t);
    expect(active(during, 'POST')).toBe(1);
    expect(active(during, 'GET')).toBe(1);

    release();
    expect((await held).status).toBe(200);
    const after = await scrape(t);
    expect(active(after, 'POST')).toBe(0);
    expect(count(after, { route: '/held', method: 'POST', status_class: '2xx' })).toBe(1);
  });
});
