import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, JobPayloadError, UnknownHandlerError, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';

describe('worker error boundaries', () => {
  let prefix: string;
  let client: JobClient<typeof testHandlers>;
  let raw: Queue;
  let worker: JobWorker;
  let lines: CapturedLog[];

  beforeEach(async () => {
    prefix = testPrefix('errors');
    client = createJobClient({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix });
    // A foreign producer that skips our validation, as another service or BullBoard could.
    raw = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    const captured = captureLogger('debug');
    lines = captured.lines;
    worker = createWorker({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captured.log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await raw.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  const failedJob = (id: string) =>
    sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'failed' && job;
    });
  /** How many times the worker picked the job up (BullMQ does not count unrecoverable failures as attempts made). */
  const runs = async (id: string) => (await raw.getJob(id))!.attemptsStarted;

  it('rejects an unknown handler at enqueue, listing the known ones', async () => {
    const enqueue = client.enqueueJob as (name: string, payload: unknown) => Promise<string>;
    const err = await enqueue('nope', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownHandlerError);
    expect((err as UnknownHandlerError).known).toEqual(['record', 'failing', 'slow', 'strict']);
    expect(await raw.count()).toBe(0);
  });

  it('fails a job whose handler is unknown to the worker, without retries, and logs an error', async () => {
    const job = await raw.add('ghost', { type: 'adhoc', payload: {} }, { attempts: 5 });
    const info = await failedJob(job.id!);
    expect(await runs(job.id!)).toBe(1);
    expect(info.failedReason).toMatch(/unknown handler "ghost"/);
    const logged = await sleepUntil(() => lines.find((l) => l.level === 50 && /unknown handler "ghost"/.test(l.msg)));
    expect(logged.scope).toBe(`[worker][ghost:${job.id}]`);
  });

  it('rejects a payload that fails its schema at enqueue, naming the field, and adds nothing', async () => {
    const bad = { n: 'two', label: '' } as unknown as { n: number; label: string };
    const err = await client.enqueueJob('strict', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobPayloadError);
    expect((err as JobPayloadError).issues.map((i) => i.path)).toEqual(['payload.n', 'payload.label']);
    expect(await raw.count()).toBe(0);
  });

  it('fails a job whose payload fails its schema at run time, without retries, and logs why', async () => {
    const job = await raw.add('strict', { type: 'adhoc', payload: { n: 1.5, label: 'x' } }, { attempts: 3 });
    const info = await failedJob(job.id!);
    expect(await runs(job.id!)).toBe(1);
    expect(info.failedReason).toMatch(/invalid payload for "strict": payload\.n/);
    expect(lines.some((l) => l.level === 50 && /payload\.n/.test(l.msg))).toBe(true);
  });

  it('fails a job whose data is not an envelope', async () => {
    const job = await raw.add('strict', { n: 1, label: 'x' }, { attempts: 2 });
    const info = await failedJob(job.id!);
    expect(await runs(job.id!)).toBe(1);
    expect(info.failedReason).toMatch(/not a \{type, payload\} envelope/);
  });

  it('logs a throwing handler with its attempt, and re-throws so BullMQ retries', async () => {
    const id = await client.enqueueJob('failing', { list: `${prefix}:f` }, { attempts: 2, backoffMs: 10 });
    const info = await failedJob(id);
    expect(info.attemptsMade).toBe(2);
    const failures = lines.filter((l) => l.msg === 'job failed' && l.scope === `[worker][failing:${id}]`);
    expect(failures.map((l) => [l.attempt, l.willRetry])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect((failures[0]!.err as { message: string }).message).toBe('boom on attempt 1');
  });

  it('runs a valid job and logs its completion under the seed scope', async () => {
    const id = await client.enqueueJob('strict', { n: 21, label: 'x' });
    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed');
    expect((await client.getJob(id))?.result).toBe(42);
    expect(lines.some((l) => l.msg === 'job completed' && l.scope === `[worker][strict:${id}]`)).toBe(true);
  });
});
