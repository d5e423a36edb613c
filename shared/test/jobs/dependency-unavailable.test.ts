import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../test/helpers/index.js';
import { needsDatabase } from '../../../test/fixtures/test-handlers.js';

describe('DependencyUnavailableError', () => {
  const handlers = { needsDatabase };
  let prefix: string;
  let client: JobClient<typeof handlers>;
  let worker: JobWorker;
  let lines: CapturedLog[];
  beforeEach(async () => {
    prefix = testPrefix('dep');
    client = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
    const captured = captureLogger('info');
    lines = captured.lines;
    worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, logger: captured.log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('puts the job back without spending an attempt, so an outage longer than the retry budget loses nothing', async () => {
    // One attempt in all, and the dependency is down for the first two runs.
    const id = await client.enqueueJob('needsDatabase', { counter: `${prefix}:runs`, downFor: 2 }, { attempts: 1 });
    const done = await sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'completed' && job;
    }, { timeoutMs: 20_000, message: 'job completed after the dependency came back' });
    expect(done.result).toEqual({ run: 3 });
    expect(done.attemptsMade).toBe(1);
    const raw = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      expect((await raw.getJob(id))!.attemptsStarted).toBe(3);
    } finally {
      await raw.close();
    }
    expect(lines.filter((l) => l.msg === 'dependency unavailable: job put back, no attempt spent').map((l) => l.dependency)).toEqual(['database', 'database']);
  });
});
