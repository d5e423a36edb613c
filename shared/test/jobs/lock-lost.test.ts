import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobClient, createWorker, makeSingletonJob, type JobClient, type JobWorker } from '../../src/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { acquireLock, type LockLoss } from '../../src/jobs/patterns/singleton-lock.js';
import { captureLogger, cleanupPrefix, sleepUntil, startTcpProxy, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

/** Renewal every 200 ms. */
const LOCK_TTL_MS = 600;

type Run = { run: number; attempt: number; attemptsMade: number; startedAt: number; abortedAt?: number; reason?: string };

/**
 * A singleton whose first run waits on its signal (then returns or throws, as the payload says)
 * and whose later runs finish at once. Each run's facts go to a Redis list.
 */
const guarded = makeSingletonJob<{ ns: string; onAbort: 'return' | 'throw' }>(
  async (ctx, payload) => {
    const run = await ctx.redis.incr(`${payload.ns}:runs`);
    const facts: Run = { run, attempt: ctx.attempt, attemptsMade: ctx.attempt - 1, startedAt: Date.now() };
    if (run === 1) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      Object.assign(facts, { abortedAt: Date.now(), reason: String(ctx.signal.reason) });
    }
    await ctx.redis.rpush(`${payload.ns}:events`, JSON.stringify(facts));
    if (run === 1 && payload.onAbort === 'throw') throw new Error('stopped: lock lost');
    return { run };
  },
  { schema: z.object({ ns: z.string(), onAbort: z.enum(['return', 'throw']) }), lockTtlMs: LOCK_TTL_MS, retryDelayMs: 100 },
);
const handlers = { guarded };

describe('singleton lock lost while the job runs', () => {
  let prefix: string;
  let client: JobClient<typeof handlers>;
  let worker: JobWorker;
  const runs = async (ns: string): Promise<Run[]> => (await redis.lrange(`${ns}:events`, 0, -1)).map((s) => JSON.parse(s) as Run);
  // The singleton is the `concurrency: { limit: 1 }` case: its lock is the one lease of its slot set (jobs/limits).
  const lockKey = () => `${redisKeys(prefix, 'jobs').limitState('guarded', 'c:')}:run`;

  beforeEach(async () => {
    prefix = testPrefix('lost');
    client = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
    worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  for (const onAbort of ['return', 'throw'] as const) {
    it(`lock deleted: ctx.signal fires with lockLost within a couple of renewals; the handler ${onAbort}s; the job reruns and completes with attempts: 1`, async () => {
      const ns = `${prefix}:${onAbort}`;
      const id = await client.enqueueJob('guarded', { ns, onAbort }, { attempts: 1 });
      await sleepUntil(async () => (await redis.get(`${ns}:runs`)) === '1', { message: 'first run started' });
      expect(await redis.zcard(lockKey())).toBe(1);
      const deletedAt = Date.now();
      await redis.del(lockKey());

      await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { message: 'job completed on its rerun' });
      const [first, second] = await runs(ns);
      expect(first).toMatchObject({ run: 1, reason: 'lockLost' });
      // Renewal every 200 ms: the next renewal finds the key gone.
      expect(first!.abortedAt! - deletedAt).toBeLessThan(2 * (LOCK_TTL_MS / 3) + 300);
      // No attempt spent: the rerun is attempt 1 again, and attempts: 1 did not make the job fail.
      expect(second).toMatchObject({ run: 2, attempt: 1 });
      const info = await client.getJob(id);
      expect(info).toMatchObject({ state: 'completed', attemptsMade: 1, result: { run: 2 } });
      const { logs } = await client.queue.getJobLogs(id);
      expect(logs.join('\n')).toMatch(/singleton lock lost/);
      expect(logs.join('\n')).toMatch(/run repeated: the previous run of this attempt lost its singleton lock/);
    });
  }

  it('lock taken over by another token: the run stops, and its rerun waits until the other holder is gone', async () => {
    const ns = `${prefix}:taken`;
    const id = await client.enqueueJob('guarded', { ns, onAbort: 'return' }, { attempts: 1 });
    await sleepUntil(async () => (await redis.get(`${ns}:runs`)) === '1', { message: 'first run started' });
    // Another holder's lease, for 1.5 s (as if our lock had lapsed and someone else took it).
    const takenAt = Date.now();
    await redis.multi().del(lockKey()).zadd(lockKey(), takenAt + 1_500, 'intruder/1/x').exec();

    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { message: 'job completed on its rerun' });
    const [first, second] = await runs(ns);
    expect(first).toMatchObject({ run: 1, reason: 'lockLost' });
    expect(first!.abortedAt! - takenAt).toBeLessThan(2 * (LOCK_TTL_MS / 3) + 300);
    // Never both: the rerun started only once the other holder's lock had expired.
    expect(second!.startedAt - takenAt).toBeGreaterThanOrEqual(1_400);
    expect(await client.getJob(id)).toMatchObject({ state: 'completed', attemptsMade: 1 });
    // The rerun's waits for the lock are not "repeats": one line, for the lost lock, and no false "stalled".
    const { logs } = await client.queue.getJobLogs(id);
    expect(logs.filter((l) => l.includes('run repeated'))).toEqual([expect.stringContaining('lost its singleton lock')]);
  });
});

describe('acquireLock', () => {
  it('renewals failing (Redis unreachable) past the TTL: lost as "expired" before the key could expire, never "held" again', async () => {
    const proxy = await startTcpProxy({ targetPort: new URL(TEST_REDIS_URL).port ? Number(new URL(TEST_REDIS_URL).port) : 6379 });
    const viaProxy = new Redis(`redis://127.0.0.1:${proxy.port}`, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    viaProxy.on('error', () => undefined); // reconnect attempts while the proxy is down
    const key = `${testPrefix('lock')}:lock`;
    try {
      let lost: { why: LockLoss; at: number; tokenStillThere: boolean } | undefined;
      const lock = await acquireLock(viaProxy, key, LOCK_TTL_MS, (why) => {
        const at = Date.now();
        // Read on a direct connection: at the moment this holder gives up, nobody else can have taken it.
        void redis.pttl(key).then((ttl) => (lost = { why, at, tokenStillThere: ttl > 0 }));
      });
      expect(lock).toBeDefined();
      // A couple of renewals go through first.
      await sleepUntil(async () => proxy.replies() >= 3, { message: 'renewals answered' });
      await proxy.close();
      const cutAt = Date.now();
      const seen = await sleepUntil(() => lost, { timeoutMs: 5_000, message: 'lock given up' });
      expect(seen.why).toBe('expired');
      expect(seen.tokenStillThere).toBe(true);
      expect(seen.at - cutAt).toBeLessThan(LOCK_TTL_MS + 200);
      expect(lock!.lost).toBe(true);
      await lock!.release();
    } finally {
      viaProxy.disconnect();
      await proxy.close();
      await redis.del(key);
    }
  });
});
