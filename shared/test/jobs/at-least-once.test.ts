import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobClient, createWorker, makeJob, makeSingletonJob, type JobClient, type JobWorker } from '../../src/index.js';
import type { JobRunner } from '../../src/jobs/index.js';
import { captureLogger, cleanupPrefix, killAll, sleepUntil, startWorkerChild, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { allTestHandlers } from '../../../test/fixtures/test-handlers.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

type Payload = { ns: string; onAbort: 'return' | 'throw' };
const schema = z.object({ ns: z.string(), onAbort: z.enum(['return', 'throw']) });

/** First run waits on its signal, then returns or throws; later runs finish at once. */
const interruptible: JobRunner<Payload> = async (ctx, payload) => {
  const run = await ctx.redis.incr(`${payload.ns}:runs`);
  if (run > 1) return { run };
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
  await ctx.redis.set(`${payload.ns}:reason`, String(ctx.signal.reason));
  if (payload.onAbort === 'throw') throw new Error('stopped early');
  return { run, stoppedEarly: true };
};
const handlers = {
  basicJob: makeJob<Payload>(interruptible, { schema }),
  singletonJob: makeSingletonJob<Payload>(interruptible, { schema, lockTtlMs: 3_000 }),
};

describe('at-least-once: a run aborted by shutdown goes back to the queue, and the job log says why it repeats', () => {
  let prefix: string;
  let client: JobClient<typeof handlers>;
  const workers: JobWorker[] = [];
  const startWorker = async () => {
    const w = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, shutdownTimeoutMs: 200, logger: captureLogger('warn').log });
    workers.push(w);
    await w.waitUntilReady();
    return w;
  };

  beforeEach(() => {
    prefix = testPrefix('alo');
    client = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await client.close();
    await cleanupPrefix(prefix);
  });

  for (const name of ['basicJob', 'singletonJob'] as const) {
    for (const onAbort of ['return', 'throw'] as const) {
      it(`${name}: the handler ${onAbort}s after the shutdown abort → back in the queue, no attempt spent; its rerun logs why`, async () => {
        const ns = `${prefix}:${name}:${onAbort}`;
        const first = await startWorker();
        const id = await client.enqueueJob(name, { ns, onAbort }, { attempts: 1 });
        await sleepUntil(async () => (await redis.get(`${ns}:runs`)) === '1', { message: 'first run started' });
        await first.close();

        expect(await redis.get(`${ns}:reason`)).toBe('shutdown');
        const back = await client.getJob(id);
        expect(['waiting', 'delayed']).toContain(back?.state);
        expect(back?.attemptsMade).toBe(0);
        expect((await client.queue.getJobLogs(id)).logs.join('\n')).toMatch(/run interrupted \(worker shutdown\): back in the queue, no attempt spent/);

        await startWorker();
        await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { message: 'job completed by the next worker' });
        expect(await client.getJob(id)).toMatchObject({ attemptsMade: 1, result: { run: 2 } });
        const { logs } = await client.queue.getJobLogs(id);
        expect(logs.filter((l) => l.includes('run repeated'))).toEqual([expect.stringMatching(/WARN run repeated: the previous run of this attempt was interrupted by a worker shutdown \{"previousRun":"shutdown"\}$/)]);
      });
    }
  }
});

describe('at-least-once: a stalled run', () => {
  let prefix: string;
  let client: JobClient<typeof allTestHandlers>;
  const children: Child[] = [];
  let rescuer: JobWorker | undefined;

  beforeEach(() => {
    prefix = testPrefix('stall');
    client = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await killAll(children);
    await rescuer?.close();
    rescuer = undefined;
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('a worker killed mid-run: the next run says in the job log that the previous one stalled', async () => {
    const list = `${prefix}:events`;
    const doomed = await startWorkerChild(prefix, { TEST_LOCK_MS: '1000' });
    children.push(doomed);
    const id = await client.enqueueJob('slow', { list, ms: 1_500 });
    await sleepUntil(async () => (await redis.llen(list)) > 0, { message: 'job started in the child' });
    doomed.kill('SIGKILL');
    await doomed.exited;

    rescuer = createWorker({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, lockDurationMs: 1_000, logger: captureLogger('error').log });
    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { timeoutMs: 20_000, message: 'job completed by the rescuer' });
    const { logs } = await client.queue.getJobLogs(id);
    expect(logs.filter((l) => l.includes('run repeated'))).toEqual([
      expect.stringMatching(/WARN run repeated: the previous run of this attempt did not finish: its worker stopped renewing the job lock \(crashed, killed or blocked\) and the job stalled/),
    ]);
  });

  it('a first run logs no "run repeated" line, nor does a retry after a failure', async () => {
    const list = `${prefix}:fail`;
    rescuer = createWorker({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('fatal').log });
    const ok = await client.enqueueJob('record', { list, tag: 'a' });
    const failing = await client.enqueueJob('failing', { list }, { attempts: 2, backoffMs: 10 });
    await sleepUntil(async () => (await client.getJob(ok))?.state === 'completed' && (await client.getJob(failing))?.state === 'failed', { message: 'both done' });
    for (const id of [ok, failing]) expect((await client.queue.getJobLogs(id)).logs.join('\n')).not.toContain('run repeated');
  });
});
