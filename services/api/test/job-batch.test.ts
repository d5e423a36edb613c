import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, makeJob, makeSupersedingJob, type HandlerMap, type JobClient } from '../../../shared/src/index.js';
import { closeRedis, createRedis } from '../../../shared/src/redis/index.js';
import { createMetricsRegistry } from '../../../shared/src/metrics/index.js';
import { startCutProxy } from '../../../test/helpers/cut-proxy.js';
import { createApp } from '../src/app.js';
import { idempotentBatchJobId } from '../src/idempotency.js';
import { MAX_BATCH_BODY_BYTES } from '../src/middleware/json-body.js';
import { createTestApp, mintToken, TEST_JWT_SECRET, type TestApp } from './helpers/test-app.js';

const handlers: HandlerMap = {
  notify: makeJob<{ userId: string; note?: string }>(async () => undefined, { schema: z.object({ userId: z.string().min(1), note: z.string().optional() }) }),
  report: makeJob<{ n: number }>(async () => undefined, { queue: 'reports', schema: z.object({ n: z.number().int() }) }),
  sync: makeSupersedingJob<{ key: string; v: number }>(async () => undefined, (p) => `sync:${p.key}`, { schema: z.object({ key: z.string(), v: z.number() }) }),
  secret: makeJob<{ x: number }>(async () => undefined, { internal: true }),
};

type Batch = { jobs: { id: string; handler: string; type: string }[]; idempotentReplay?: boolean };
type Problem = { status: number; field?: string; detail?: string; errors?: { field: string }[] };
const notify = (userId: string, options?: object) => ({ handler: 'notify', payload: { userId }, ...(options ? { options } : {}) });

// SPEC §13: POST /api/admin/job/batch — all or nothing, one transaction per queue, as if one by one.
describe('POST /api/admin/job/batch', () => {
  let t: TestApp;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = async (options: Parameters<typeof createTestApp>[0] = {}) => {
    t = await createTestApp({ handlers, ...options });
    cleanups.push(() => t.close());
    return t;
  };
  const batch = (jobs: unknown[], init: { token?: string; headers?: Record<string, string> } = {}) => t.call('POST', '/api/admin/job/batch', { jobs }, init);
  /** Every job in both queues, any state. */
  const counts = async () => ({ jobs: await t.deps.jobs.queues.get('jobs')!.count(), reports: await t.deps.jobs.queues.get('reports')!.count() });

  it('enqueues jobs of two queues with their options; ids in order; each readable with GET', async () => {
    await open();
    const res = await batch([notify('u1'), { handler: 'report', payload: { n: 1 }, options: { priority: 2, attempts: 4 } }, notify('u2', { delay: 60_000, backoffMs: 250 })]);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Batch;
    expect(body.jobs.map((j) => [j.handler, j.type])).toEqual([['notify', 'adhoc'], ['report', 'adhoc'], ['notify', 'adhoc']]);
    expect(body.jobs[1]!.id).toMatch(/^reports~\d+$/);
    expect(body.idempotentReplay).toBeUndefined();
    const got = await Promise.all(body.jobs.map(async (j) => (await t.call('GET', `/api/admin/job/${j.id}`)).json()));
    expect(got.map((g) => [(g as { state: string }).state, (g as { payload: unknown }).payload, (g as { maxAttempts: number }).maxAttempts])).toEqual([
      ['waiting', { userId: 'u1' }, 3],
      ['prioritized', { n: 1 }, 4],
      ['delayed', { userId: 'u2' }, 3],
    ]);
    expect(await counts()).toEqual({ jobs: 2, reports: 1 });
  });

  it('one invalid job: 400 naming it by index, nothing enqueued in any queue', async () => {
    await open();
    const jobs = Array.from({ length: 20 }, (_, i) => (i % 2 ? { handler: 'report', payload: { n: i } } : notify(`u${i}`)));
    const cases: [unknown[], string][] = [
      [jobs.map((j, i) => (i === 17 ? { handler: 'notify', payload: { userId: 42 } } : j)), 'body.jobs[17].payload.userId'], // the handler's schema
      [jobs.map((j, i) => (i === 3 ? { ...j, options: { delay: -5 } } : j)), 'body.jobs[3].options.delay'], // the request schema
      [jobs.map((j, i) => (i === 5 ? { handler: 'nope', payload: {} } : j)), 'body.jobs[5].handler'], // unknown handler
      [jobs.map((j, i) => (i === 19 ? { handler: 'secret', payload: { x: 1 } } : j)), 'body.jobs[19].handler'], // internal, whatever the scope
      [jobs.map((j, i) => (i === 0 ? { ...j, extra: true } : j)), 'body.jobs[0].extra'],
      [[], 'body.jobs'],
      [Array.from({ length: 1_001 }, () => notify('u')), 'body.jobs'],
    ];
    for (const [input, field] of cases) {
      const res = await batch(input);
      expect(res.status, field).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as Problem).field).toBe(field);
    }
    const noJobs = await t.call('POST', '/api/admin/job/batch', { items: [] });
    expect(((await noJobs.json()) as Problem).field).toBe('body.jobs');
    expect(await counts()).toEqual({ jobs: 0, reports: 0 });
  });

  it('dedupeKey and superseding jobs inside a batch behave as if enqueued one by one', async () => {
    await open();
    const before = (await (await t.call('POST', '/api/admin/job', { handler: 'sync', payload: { key: 'A', v: 0 } })).json()) as { id: string };
    const res = await batch([
      notify('a', { dedupeKey: 'k' }),
      { handler: 'sync', payload: { key: 'A', v: 1 } },
      notify('b', { dedupeKey: 'k' }),
      { handler: 'sync', payload: { key: 'A', v: 2 } },
    ]);
    const ids = ((await res.json()) as Batch).jobs.map((j) => j.id);
    expect(ids[2]).toBe(ids[0]); // the second equal dedupeKey answers the first job
    expect((await t.call('GET', `/api/admin/job/${before.id}`)).status).toBe(404); // superseded by the batch
    expect((await t.call('GET', `/api/admin/job/${ids[1]}`)).status).toBe(404); // superseded inside the batch
    expect(await (await t.call('GET', `/api/admin/job/${ids[3]}`)).json()).toMatchObject({ payload: { key: 'A', v: 2 } });
    expect(await counts()).toEqual({ jobs: 2, reports: 0 });
  });

  it('Idempotency-Key: a repeat answers the same ids and adds nothing; another body is 422; a token without sub is 400', async () => {
    await open({ auth: true });
    const token = await mintToken({ scope: 'jobs:enqueue', sub: 'importer' });
    const jobs = [notify('u1'), { handler: 'report', payload: { n: 1 } }, { handler: 'sync', payload: { key: 'K', v: 1 } }];
    const headers = { 'idempotency-key': 'import-7' };
    const first = (await (await batch(jobs, { token, headers })).json()) as Batch;
    expect(first.jobs.map((j) => j.id)).toEqual([
      idempotentBatchJobId('importer', 'import-7', 0),
      `reports~${idempotentBatchJobId('importer', 'import-7', 1)}`,
      idempotentBatchJobId('importer', 'import-7', 2),
    ]);
    const again = await batch(jobs, { token, headers });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({ ...first, idempotentReplay: true });
    expect(await counts()).toEqual({ jobs: 2, reports: 1 });
    // The superseding job of the batch is still there: a replay supersedes nothing.
    expect((await t.call('GET', `/api/admin/job/${first.jobs[2]!.id}`, undefined, { token })).status).toBe(200);

    const other = await batch([notify('u1')], { token, headers });
    expect(other.status).toBe(422);
    expect(((await other.json()) as Problem).field).toBe('header.idempotency-key');
    // A key used by a single request is not a batch's key too.
    await t.call('POST', '/api/admin/job', notify('s'), { token, headers: { 'idempotency-key': 'single-1' } });
    expect((await batch([notify('s')], { token, headers: { 'idempotency-key': 'single-1' } })).status).toBe(422);

    const longKey = await batch([notify('x')], { token, headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(longKey.status).toBe(400);
    expect(((await longKey.json()) as Problem).field).toBe('header.idempotency-key');

    const noSub = await new SignJWT({ scope: 'jobs:enqueue' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('test-issuer').setAudience('jobs-api').setExpirationTime('5m').sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const refused = await batch([notify('x')], { token: noSub, headers: { 'idempotency-key': 'k' } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Problem).field).toBe('header.idempotency-key');
    expect(await counts()).toEqual({ jobs: 3, reports: 1 });
  });

  it('Redis gone while the batch is sent: 503, none of its jobs added; the retry with its Idempotency-Key adds them once', async () => {
    await open();
    const proxy = await startCutProxy(6379);
    cleanups.push(() => proxy.close());
    const redis = createRedis(`redis://127.0.0.1:${proxy.port}`, 'producer');
    cleanups.push(() => closeRedis(redis));
    await new Promise((resolve) => redis.once('ready', resolve));
    const jobs = createJobClient({ handlers, connection: redis, prefix: t.prefix, timeoutMs: 2_000 }) as JobClient<HandlerMap>;
    cleanups.push(() => jobs.close());
    const cutApp = createApp({ ...t.deps, redis, jobs, metrics: createMetricsRegistry('api', { defaultMetrics: false }) });
    const send = (app: typeof cutApp, body: unknown, key = 'bulk-1') =>
      app.request('/api/admin/job/batch', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });

    const note = 'n'.repeat(400);
    const body = { jobs: Array.from({ length: 1_000 }, (_, i) => ({ handler: i % 2 ? 'report' : 'notify', payload: i % 2 ? { n: i } : { userId: `u${i}`, note } })) };
    expect((await send(cutApp, { jobs: [notify('warm-up'), { handler: 'report', payload: { n: 0 } }] }, 'warm-up')).status).toBe(201); // scripts loaded
    proxy.cutAfter(48 * 1024, 'MULTI'); // part of the first queue's transaction reaches Redis, then Redis is gone
    const res = await send(cutApp, body);
    await proxy.cut;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const direct = (name: string) => new Queue(name, { connection: t.redis, prefix: t.prefix });
    const [jobsQueue, reportsQueue] = [direct('jobs'), direct('reports')];
    cleanups.push(() => Promise.all([jobsQueue.close(), reportsQueue.close()]));
    expect([await jobsQueue.count(), await reportsQueue.count()]).toEqual([1, 1]); // the warm-up's: nothing half-added

    // Redis back (the healthy app): the retry with the same key adds every job, once.
    const retry = await send(t.app, body);
    expect(retry.status).toBe(201);
    expect(((await retry.json()) as Batch).jobs).toHaveLength(1_000);
    expect([await jobsQueue.count(), await reportsQueue.count()]).toEqual([501, 501]);
  });

  it('1,000 jobs in one request; 413 over the raised limit, which other routes do not get', async () => {
    await open();
    const big = Array.from({ length: 1_000 }, (_, i) => ({ handler: 'notify', payload: { userId: `u${i}`, note: 'x'.repeat(1_500) } })); // ~1.6 MB
    const res = await batch(big);
    expect(res.status).toBe(201);
    expect(new Set(((await res.json()) as Batch).jobs.map((j) => j.id)).size).toBe(1_000);
    expect(await counts()).toEqual({ jobs: 1_000, reports: 0 });
    // The same size is too much for the single route (1 MiB).
    const single = await t.call('POST', '/api/admin/job', { handler: 'notify', payload: { userId: 'u', note: 'x'.repeat(1_600_000) } });
    expect(single.status).toBe(413);

    const huge = JSON.stringify({ jobs: [{ handler: 'notify', payload: { userId: 'u', note: 'x'.repeat(MAX_BATCH_BODY_BYTES) } }] });
    const withLength: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(huge)) };
    for (const headers of [withLength, { 'content-type': 'application/json' }]) {
      const tooBig = await t.app.request('/api/admin/job/batch', { method: 'POST', headers, body: huge });
      expect(tooBig.status).toBe(413);
      expect(((await tooBig.json()) as Problem).detail).toContain(String(MAX_BATCH_BODY_BYTES));
    }
    expect(await counts()).toEqual({ jobs: 1_000, reports: 0 });
  });

  it('over real HTTP (@hono/node-server, headers read from Node): the batch route takes 2 MB, the single route answers 413, a form body 415', async () => {
    await open();
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const note = 'x'.repeat(2_000);
    const jobs = Array.from({ length: 1_000 }, (_, i) => ({ handler: 'notify', payload: { userId: `u${i}`, note } }));
    const post = (path: string, body: string, type = 'application/json') => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('/api/admin/job/batch', JSON.stringify({ jobs }))).status).toBe(201);
    expect((await post('/api/admin/job', JSON.stringify({ handler: 'notify', payload: { userId: 'u', note: note.repeat(1_000) } }))).status).toBe(413);
    expect((await post('/api/admin/job/batch', 'jobs=1', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect(await counts()).toEqual({ jobs: 1_000, reports: 0 });
  });

  it('scope: jobs:enqueue may send a batch; a token without it gets 403 and nothing is added', async () => {
    await open({ auth: true });
    const enqueuer = await mintToken({ scope: 'jobs:enqueue' });
    expect((await batch([notify('a')], { token: enqueuer })).status).toBe(201);
    expect((await batch([notify('b')], { token: await mintToken({ scope: 'jobs:read' }) })).status).toBe(403);
    expect((await batch([notify('c')])).status).toBe(401);
    expect(await counts()).toEqual({ jobs: 1, reports: 0 });
  });

  it('is in the OpenAPI document', async () => {
    await open();
    const doc = (await (await t.call('GET', '/api/openapi.json')).json()) as { paths: Record<string, { post?: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/api/admin/job/batch']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '413', '422', '503']));
  });
});
