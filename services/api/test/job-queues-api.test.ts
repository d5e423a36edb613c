import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorker, type JobWorker } from '../../../shared/src/index.js';
import { queueHandlers } from '../../../test/fixtures/queue-handlers.js';
import { captureLogger, sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Job ids over HTTP when handlers live on several queues (SPEC §12 "Ids").
describe('job routes across queues', () => {
  let t: TestApp;
  let worker: JobWorker | undefined;
  beforeEach(async () => {
    t = await createTestApp({ handlers: queueHandlers });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await t.close();
  });
  const list = () => `${t.prefix}:notes`;

  it('POST answers <queue>~<id> off the default queue; GET and DELETE take it as the path id', async () => {
    const res = await t.call('POST', '/api/admin/job', { handler: 'onReports', payload: { list: list(), tag: 'r' } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect(id).toBe('reports~1');
    const plain = (await (await t.call('POST', '/api/admin/job', { handler: 'onDefault', payload: { list: list(), tag: 'd' } })).json()) as { id: string };
    expect(plain.id).toBe('1');
    expect(await (await t.call('GET', `/api/admin/job/${id}`)).json()).toMatchObject({ id, queue: 'reports', handler: 'onReports', state: 'waiting' });
    expect(await (await t.call('GET', `/api/admin/job/${plain.id}`)).json()).toMatchObject({ id: '1', queue: 'jobs', handler: 'onDefault' });
    const del = await t.call('DELETE', `/api/admin/job/${id}`);
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id, status: 'removed' });
    expect((await t.call('GET', `/api/admin/job/${id}`)).status).toBe(404);
    expect((await t.call('GET', `/api/admin/job/${plain.id}`)).status).toBe(200);

    worker = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    const next = (await (await t.call('POST', '/api/admin/job', { handler: 'onCritical', payload: { list: list(), tag: 'c' } })).json()) as { id: string };
    expect(next.id).toMatch(/^critical~\d+$/);
    await sleepUntil(async () => ((await (await t.call('GET', `/api/admin/job/${next.id}`)).json()) as { state: string }).state === 'completed', { message: 'critical job completed' });
  });

  it('Idempotency-Key on a handler of another queue: the replay finds the job on its queue and answers the same <queue>~ id', async () => {
    const headers = { 'idempotency-key': 'report-7' };
    const body = { handler: 'onReports', payload: { list: list(), tag: 'once' } };
    const first = await t.call('POST', '/api/admin/job', body, { headers });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    expect(id).toMatch(/^reports~idem-[\w-]+$/);
    // The record is gone (expired): the job on `reports` is the only witness, and it is found there.
    await t.redis.del(...(await t.redis.keys(`${t.prefix}:jobs:job:idempotency:*`)));
    const again = await t.call('POST', '/api/admin/job', body, { headers });
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ id, idempotentReplay: true });
    expect(await t.deps.jobs.queues.get('reports')!.count()).toBe(1);
    expect(await t.deps.jobs.queue.count()).toBe(0);
    const other = await t.call('POST', '/api/admin/job', { ...body, payload: { list: list(), tag: 'twice' } }, { headers });
    expect(other.status).toBe(422);
    expect((await t.call('GET', `/api/admin/job/${id}`)).status).toBe(200);
  });
});
