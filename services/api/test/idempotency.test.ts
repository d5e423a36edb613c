import { SignJWT } from 'jose';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, makeSupersedingJob, type HandlerMap, type JobClient } from '../../../shared/src/index.js';
import { closeRedis, createRedis } from '../../../shared/src/redis/index.js';
import { createMetricsRegistry } from '../../../shared/src/metrics/index.js';
import { sleepUntil, startTcpProxy } from '../../../test/helpers/index.js';
import { createApp } from '../src/app.js';
import { idempotentJobId } from '../src/idempotency.js';
import { createTestApp, mintToken, TEST_JWT_SECRET, type TestApp } from './helpers/test-app.js';

type Enqueued = { id: string; idempotentReplay?: boolean };
type Problem = { status: number; field?: string; detail?: string };

const post = (t: TestApp, body: unknown, key: string, token?: string) => t.call('POST', '/api/admin/job', body, { headers: { 'idempotency-key': key }, ...(token ? { token } : {}) });
const jobIds = async (t: TestApp) => (await t.deps.jobs.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])).map((j) => j.id);

// SPEC §14: an Idempotency-Key never yields two jobs, also when Redis answers slowly or the API
// dies between enqueue and reply. The job id is derived from (actor, key), so BullMQ itself refuses a second add.
describe('Idempotency-Key', () => {
  let t: TestApp;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = async (options: Parameters<typeof createTestApp>[0] = {}) => {
    t = await createTestApp(options);
    cleanups.push(() => t.close());
    return t;
  };

  it('the same key twice: the id derived from the key, one job in the queue; GET and DELETE take that id', async () => {
    await open();
    const body = { handler: 'echo', payload: { message: 'once' } };
    const first = await post(t, body, 'order-1');
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as Enqueued;
    expect(id).toBe(idempotentJobId('anonymous', 'order-1'));
    expect(id).toMatch(/^idem-[A-Za-z0-9_-]{43}$/);
    // The same body with its keys in another order is the same request.
    const again = await post(t, { payload: { message: 'once' }, handler: 'echo' }, 'order-1');
    expect(await again.json()).toEqual({ id, handler: 'echo', type: 'adhoc', idempotentReplay: true });
    expect(await jobIds(t)).toEqual([id]);

    const got = await t.call('GET', `/api/admin/job/${id}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id, handler: 'echo', payload: { message: 'once' } });
    const removed = await t.call('DELETE', `/api/admin/job/${id}`);
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ id, status: 'removed' });
  });

  it('another body with the same key is 422 naming the header, and adds nothing', async () => {
    await open();
    await post(t, { handler: 'echo', payload: { message: 'a' } }, 'order-2');
    const other = await post(t, { handler: 'echo', payload: { message: 'a' }, options: { delay: 1_000 } }, 'order-2');
    expect(other.status).toBe(422);
    expect(((await other.json()) as Problem).field).toBe('header.idempotency-key');
    expect(await t.deps.jobs.queue.count()).toBe(1);
  });

  it('Redis too slow for the first request (503) while its add still lands: the retry gets that job, not a second one', async () => {
    await open();
    // The first request's API reaches Redis through a proxy that holds every reply 1.5 s, beyond
    // its job client's 1 s bound: the add runs in Redis at once, its answer comes too late.
    const proxy = await startTcpProxy({ targetPort: 6379, replyDelayMs: 1_500 });
    cleanups.push(() => proxy.close());
    const slowRedis = createRedis(`redis://127.0.0.1:${proxy.port}`, 'producer');
    cleanups.push(() => closeRedis(slowRedis));
    await new Promise((resolve) => slowRedis.once('ready', resolve));
    const slowJobs = createJobClient({ handlers: t.deps.handlers, connection: slowRedis, prefix: t.prefix, timeoutMs: 1_000 }) as JobClient<HandlerMap>;
    cleanups.push(() => slowJobs.close());
    const slowApp = createApp({ ...t.deps, redis: slowRedis, jobs: slowJobs, metrics: createMetricsRegistry('api', { defaultMetrics: false }) });

    const body = { handler: 'echo', payload: { message: 'slow' } };
    const first = await slowApp.request('/api/admin/job', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'order-3' }, body: JSON.stringify(body) });
    expect(first.status).toBe(503);
    const [landed] = await sleepUntil(async () => {
      const ids = await jobIds(t);
      return ids.length > 0 && ids;
    }, { message: "the first request's add" });

    // The client retries through an API whose Redis answers normally.
    const retry = await post(t, body, 'order-3');
    expect(retry.status).toBe(201);
    expect(((await retry.json()) as Enqueued).id).toBe(landed);
    expect(await jobIds(t)).toEqual([landed]);
    // And a retry with another body is still refused: the key is bound to the first body.
    expect((await post(t, { handler: 'echo', payload: { message: 'other' } }, 'order-3')).status).toBe(422);
  }, 20_000);

  it('the API died between enqueue and reply (job present, no record): the request gets that job; another body is 422', async () => {
    await open();
    const id = idempotentJobId('anonymous', 'order-4');
    // What the first attempt did before it died: the add with the derived id, nothing else.
    expect(await t.deps.jobs.enqueueJob('echo', { message: 'died' }, { jobId: id })).toBe(id);
    const other = await post(t, { handler: 'echo', payload: { message: 'not what was sent' } }, 'order-4');
    expect(other.status).toBe(422);
    const retry = await post(t, { handler: 'echo', payload: { message: 'died' } }, 'order-4');
    expect(retry.status).toBe(201);
    expect(await retry.json()).toMatchObject({ id, idempotentReplay: true });
    expect(await jobIds(t)).toEqual([id]);
  });

  it('keys are per caller: another token subject with the same key gets another job', async () => {
    await open({ auth: true });
    const body = { handler: 'echo', payload: { message: 'mine' } };
    const alice = await mintToken({ sub: 'alice', scope: 'jobs:enqueue' });
    const bob = await mintToken({ sub: 'bob', scope: 'jobs:enqueue' });
    const a = (await (await post(t, body, 'shared-key', alice)).json()) as Enqueued;
    const b = (await (await post(t, body, 'shared-key', bob)).json()) as Enqueued;
    expect(a.id).toBe(idempotentJobId('alice', 'shared-key'));
    expect(b.id).toBe(idempotentJobId('bob', 'shared-key'));
    expect((await jobIds(t)).sort()).toEqual([a.id, b.id].sort());
  });

  it('a token without sub may enqueue, but not with an Idempotency-Key (400 naming the header)', async () => {
    await open({ auth: true });
    const noSub = await new SignJWT({ scope: 'jobs:enqueue' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('test-issuer')
      .setAudience('jobs-api')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const body = { handler: 'echo', payload: { message: 'who?' } };
    const refused = await post(t, body, 'order-5', noSub);
    expect(refused.status).toBe(400);
    expect((await refused.json()) as Problem).toMatchObject({ field: 'header.idempotency-key', detail: expect.stringMatching(/sub/) });
    expect(await t.deps.jobs.queue.count()).toBe(0);
    expect((await t.call('POST', '/api/admin/job', body, { token: noSub })).status).toBe(201);
  });

  it('with dedupeKey: an equal unfinished job is returned (BullMQ deduplication still applies), and a repeat of the key returns it too', async () => {
    await open();
    const plain = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'd' }, options: { delay: 60_000, dedupeKey: 'k' } })).json()) as Enqueued;
    const body = { handler: 'echo', payload: { message: 'd2' }, options: { dedupeKey: 'k' } };
    const keyed = (await (await post(t, body, 'order-6')).json()) as Enqueued;
    expect(keyed.id).toBe(plain.id);
    const again = (await (await post(t, body, 'order-6')).json()) as Enqueued;
    expect(again).toMatchObject({ id: plain.id, idempotentReplay: true });
    expect(await jobIds(t)).toEqual([plain.id]);

    // The other way round: a job added under a key's id holds the dedupe key for plain enqueues.
    const keyedFirst = (await (await post(t, { handler: 'echo', payload: { message: 'e' }, options: { delay: 60_000, dedupeKey: 'k2' } }, 'order-7')).json()) as Enqueued;
    expect(keyedFirst.id).toBe(idempotentJobId('anonymous', 'order-7'));
    const plainAfter = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'e2' }, options: { dedupeKey: 'k2' } })).json()) as Enqueued;
    expect(plainAfter.id).toBe(keyedFirst.id);
    expect(await t.deps.jobs.queue.count()).toBe(2);
  });

  it('with a superseding handler: key ids supersede and are superseded like any, and a replay leaves the newer job alone', async () => {
    const sync = makeSupersedingJob(async () => 'synced', (p: { resource: string; v: number }) => p.resource, { schema: z.object({ resource: z.string(), v: z.number() }) });
    await open({ handlers: { ...jobHandlers, sync } });
    const body = (v: number) => ({ handler: 'sync', payload: { resource: 'r1', v } });
    const a = (await (await post(t, body(1), 'sync-1')).json()) as Enqueued;
    expect(a.id).toBe(idempotentJobId('anonymous', 'sync-1'));
    const b = (await (await t.call('POST', '/api/admin/job', body(2))).json()) as Enqueued;
    await sleepUntil(async () => (await t.call('GET', `/api/admin/job/${a.id}`)).status === 404, { message: 'the keyed job superseded by the plain one' });
    const c = (await (await post(t, body(3), 'sync-2')).json()) as Enqueued;
    await sleepUntil(async () => (await t.call('GET', `/api/admin/job/${b.id}`)).status === 404, { message: 'the plain job superseded by the keyed one' });
    // A late retry of the first request answers with its (now superseded) job and adds nothing:
    // the newest payload stays the one that runs.
    const retry = await post(t, body(1), 'sync-1');
    expect(await retry.json()).toMatchObject({ id: a.id, idempotentReplay: true });
    expect(await jobIds(t)).toEqual([c.id]);
    expect(((await (await t.call('GET', `/api/admin/job/${c.id}`)).json()) as { payload: unknown }).payload).toEqual({ resource: 'r1', v: 3 });
  });
});
