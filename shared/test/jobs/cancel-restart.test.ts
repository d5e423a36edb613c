import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { DEFAULT_ABORT_FLAG_TTL_MS } from '../../src/jobs/abort/request-abort.js';
import { captureLogger, cleanupPrefix, killAll, sleepUntil, startWorkerChild, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { allTestHandlers } from '../../../test/fixtures/test-handlers.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

type Event = { event: string; jobId: string; pid: number };

describe('cancel of a running job is not lost when its worker dies', () => {
  let prefix: string;
  let client: JobClient<typeof allTestHandlers>;
  const children: Child[] = [];
  let worker: JobWorker | undefined;
  const events = async (list: string): Promise<Event[]> => (await redis.lrange(list, 0, -1)).map((s) => JSON.parse(s) as Event);
  const flagKey = (id: string) => redisKeys(prefix, 'jobs').abortFlag(id);

  beforeEach(() => {
    prefix = testPrefix('cxl');
    client = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await killAll(children);
    await worker?.close();
    worker = undefined;
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('cancelled while its (dead) worker still held it: the run that starts elsewhere reads the flag first and ends cancelled, handler not run', async () => {
    const list = `${prefix}:events`;
    const doomed = await startWorkerChild(prefix, { TEST_LOCK_MS: '1000' });
    children.push(doomed);
    const id = await client.enqueueJob('slow', { list, ms: 60_000 }, { attempts: 3 });
    await sleepUntil(async () => (await events(list)).length > 0, { message: 'job started in the child' });
    doomed.kill('SIGKILL');
    await doomed.exited;

    // Its lock has not lapsed yet: the job is still active, so the cancel is an abort (flag +
    // message), and no process hears the message.
    expect(await client.cancelJob(id)).toBe('aborting');
    worker = createWorker({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, lockDurationMs: 1_000, logger: captureLogger('fatal').log });

    await sleepUntil(async () => (await client.getJob(id))?.state === 'cancelled', { timeoutMs: 20_000, message: 'job cancelled by the next worker' });
    expect(await client.getJob(id)).toMatchObject({ state: 'cancelled', failedReason: 'job cancelled' });
    // The handler ran once, in the dead worker, and never again.
    expect((await events(list)).map((e) => [e.event, e.pid])).toEqual([['start', doomed.proc.pid]]);
    // The flag has served: deleted once the job ended cancelled.
    await sleepUntil(async () => (await redis.exists(flagKey(id))) === 0, { message: 'abort flag deleted' });
  });

  it("a client told the workers' lock duration gives the flag a lifetime that outlives a stall of that length", async () => {
    const list = `${prefix}:events`;
    const doomed = await startWorkerChild(prefix, {});
    children.push(doomed);
    const id = await client.enqueueJob('slow', { list, ms: 60_000 });
    await sleepUntil(async () => (await events(list)).length > 0, { message: 'job started in the child' });
    doomed.kill('SIGKILL');
    await doomed.exited;
    // Nobody hears the abort now: the flag stays with the TTL the cancelling client gave it.
    const longLocks = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, workerLockDurationMs: 20 * 60_000 });
    try {
      expect(await longLocks.cancelJob(id)).toBe('aborting');
    } finally {
      await longLocks.close();
    }
    const ttl = await redis.pttl(flagKey(id));
    // 20 min lock + 30 s stalled interval + 10 min pick-up margin, less the time since the SET.
    expect(ttl).toBeGreaterThan(30.5 * 60_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(30.5 * 60_000);
  });

  it('the flag of a running job lives the documented TTL (not a day), and goes when the job ends cancelled', async () => {
    const list = `${prefix}:run`;
    worker = createWorker({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('fatal').log });
    const id = await client.enqueueJob('slow', { list, ms: 60_000 });
    await sleepUntil(async () => (await redis.llen(list)) > 0, { message: 'job started' });
    expect(await client.cancelJob(id)).toBe('aborting');
    const ttl = await redis.pttl(flagKey(id));
    // Either already deleted (the run ended at once) or within the documented lifetime.
    if (ttl !== -2) {
      expect(ttl).toBeGreaterThan(DEFAULT_ABORT_FLAG_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(DEFAULT_ABORT_FLAG_TTL_MS);
    }
    expect(DEFAULT_ABORT_FLAG_TTL_MS).toBe(15.5 * 60_000);
    await sleepUntil(async () => (await client.getJob(id))?.state === 'cancelled', { message: 'job cancelled' });
    await sleepUntil(async () => (await redis.exists(flagKey(id))) === 0, { message: 'abort flag deleted' });
  });
});
