import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';

type Entry = { tag: string; attempt: number; at: number; type: string };

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

describe('enqueue options', () => {
  let prefix: string;
  let client: JobClient<typeof testHandlers>;
  let worker: JobWorker | undefined;
  const list = () => `${prefix}:record`;
  const entries = async (): Promise<Entry[]> =>
    (await redis.lrange(list(), 0, -1)).map((s) => JSON.parse(s) as Entry);
  const startWorker = (concurrency = 10) => {
    worker = createWorker({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix, concurrency, logger: captureLogger('warn').log });
    return worker.waitUntilReady();
  };

  beforeEach(() => {
    prefix = testPrefix('opts');
    client = createJobClient({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('returns the job id and runs the job with type adhoc', async () => {
    await startWorker();
    const id = await client.enqueueJob('record', { list: list(), tag: 'a' });
    expect(id).toMatch(/^\d+$/);
    const info = await sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'completed' && job;
    });
    expect(info).toMatchObject({ id, handler: 'record', type: 'adhoc', result: { tag: 'a' }, attemptsMade: 1 });
    expect((await entries())[0]).toMatchObject({ tag: 'a', type: 'adhoc', attempt: 1 });
  });

  it('does not run a delayed job before its delay', async () => {
    await startWorker();
    const enqueuedAt = Date.now();
    const id = await client.enqueueJob('record', { list: list(), tag: 'late' }, { delay: 1_500 });
    expect((await client.getJob(id))?.state).toBe('delayed');
    const [entry] = await sleepUntil(async () => {
      const e = await entries();
      return e.length > 0 && e;
    });
    expect(entry!.at - enqueuedAt).toBeGreaterThanOrEqual(1_500);
  });

  it('runs lower priority values first with concurrency 1', async () => {
    // Enqueue before any worker exists so all three compete for the single slot.
    await client.enqueueJob('record', { list: list(), tag: 'p10' }, { priority: 10 });
    await client.enqueueJob('record', { list: list(), tag: 'p5' }, { priority: 5 });
    await client.enqueueJob('record', { list: list(), tag: 'p1' }, { priority: 1 });
    await startWorker(1);
    const done = await sleepUntil(async () => {
      const e = await entries();
      return e.length === 3 && e;
    });
    expect(done.map((e) => e.tag)).toEqual(['p1', 'p5', 'p10']);
  });

  it('retries a failing job `attempts` times with exponential backoff, then fails it', async () => {
    await startWorker();
    const failList = `${prefix}:fail`;
    const id = await client.enqueueJob('failing', { list: failList }, { attempts: 3, backoffMs: 200 });
    const info = await sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'failed' && job;
    });
    expect(info.attemptsMade).toBe(3);
    expect(info.failedReason).toBe('boom on attempt 3');
    const runs = (await redis.lrange(failList, 0, -1)).map((s) => JSON.parse(s) as { attempt: number; at: number });
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // Exponential: ~200 ms before the 2nd try, ~400 ms before the 3rd.
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(190);
    expect(runs[2]!.at - runs[1]!.at).toBeGreaterThanOrEqual(390);
  });

  it('rejects out-of-range options naming the field', async () => {
    await expect(client.enqueueJob('record', { list: list(), tag: 'x' }, { delay: -1 })).rejects.toThrow(/options\.delay/);
    await expect(client.enqueueJob('record', { list: list(), tag: 'x' }, { priority: 0 })).rejects.toThrow(/options\.priority/);
    await expect(client.enqueueJob('record', { list: list(), tag: 'x' }, { attempts: 0 })).rejects.toThrow(/options\.attempts/);
    expect(await client.queue.count()).toBe(0);
  });
});

describe('dedupeKey', () => {
  let prefix: string;
  let client: JobClient<typeof testHandlers>;
  beforeEach(() => {
    prefix = testPrefix('dedupe');
    client = createJobClient({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('does not add a second waiting job with the same key, and returns the first id', async () => {
    const a = await client.enqueueJob('record', { list: 'l', tag: 'first' }, { dedupeKey: 'user-1' });
    const b = await client.enqueueJob('record', { list: 'l', tag: 'second' }, { dedupeKey: 'user-1' });
    expect(b).toBe(a);
    expect(await client.queue.getWaitingCount()).toBe(1);
    expect((await client.getJob(a))?.payload).toEqual({ list: 'l', tag: 'first' });
  });

  it('keeps different keys, and the same key of another handler, apart', async () => {
    const a = await client.enqueueJob('record', { list: 'l', tag: '1' }, { dedupeKey: 'k1' });
    const b = await client.enqueueJob('record', { list: 'l', tag: '2' }, { dedupeKey: 'k2' });
    const c = await client.enqueueJob('slow', { list: 'l', ms: 1 }, { dedupeKey: 'k1' });
    expect(new Set([a, b, c]).size).toBe(3);
    expect(await client.queue.getWaitingCount()).toBe(3);
  });

  it('adds a new job once the earlier one has finished', async () => {
    const worker = createWorker({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
    try {
      const a = await client.enqueueJob('record', { list: `${prefix}:l`, tag: '1' }, { dedupeKey: 'k' });
      await sleepUntil(async () => (await client.getJob(a))?.state === 'completed');
      const b = await client.enqueueJob('record', { list: `${prefix}:l`, tag: '2' }, { dedupeKey: 'k' });
      expect(b).not.toBe(a);
    } finally {
      await worker.close();
    }
  });
});
