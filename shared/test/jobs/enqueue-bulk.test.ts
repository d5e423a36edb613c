import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BatchJobError, createJobClient, JobOptionsError, makeJob, makeSupersedingJob, QueueUnavailableError, type JobClient } from '../../src/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { parsePointer } from '../../src/jobs/patterns/supersede.js';
import { cleanupPrefix, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { startCutProxy } from '../../../test/helpers/cut-proxy.js';

const handlers = {
  notify: makeJob<{ userId: string; note?: string }>(async () => undefined, { schema: z.object({ userId: z.string().min(1), note: z.string().optional() }) }),
  report: makeJob<{ n: number }>(async () => undefined, { queue: 'reports', schema: z.object({ n: z.number().int() }), attempts: 5 }),
  sync: makeSupersedingJob<{ key: string; v: number }>(async () => undefined, (p) => `sync:${p.key}`, { schema: z.object({ key: z.string(), v: z.number() }) }),
};

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

// SPEC §13: client.enqueueJobs — one transaction per queue, all or nothing, as if one by one.
describe('enqueueJobs', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = (redisUrl = TEST_REDIS_URL, timeoutMs = 2_000) => {
    const prefix = testPrefix('bulk');
    const client = createJobClient({ handlers, redisUrl, prefix, timeoutMs });
    cleanups.push(() => cleanupPrefix(prefix));
    cleanups.push(() => client.close());
    return { client, prefix };
  };
  /** Jobs present in each queue, by id (any state). */
  const jobsIn = async (client: JobClient<typeof handlers>) => {
    const out: Record<string, string[]> = {};
    for (const [name, queue] of client.queues) out[name] = (await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])).map((j) => j.id!).sort();
    return out;
  };

  it('adds jobs across two queues in one call, ids in order, each with its own options', async () => {
    const { client } = open();
    const ids = await client.enqueueJobs([
      { handler: 'notify', payload: { userId: 'u1' } },
      { handler: 'report', payload: { n: 1 }, options: { priority: 3 } },
      { handler: 'notify', payload: { userId: 'u2' }, options: { delay: 60_000, attempts: 2, backoffMs: 500 } },
      { handler: 'report', payload: { n: 2 } },
    ]);
    expect(ids).toHaveLength(4);
    expect(ids[0]).toMatch(/^\d+$/);
    expect(ids[1]).toMatch(/^reports~\d+$/);
    expect(new Set(ids).size).toBe(4);
    const infos = await Promise.all(ids.map((id) => client.getJob(id)));
    expect(infos.map((i) => [i?.handler, i?.payload, i?.queue, i?.state])).toEqual([
      ['notify', { userId: 'u1' }, 'jobs', 'waiting'],
      ['report', { n: 1 }, 'reports', 'prioritized'],
      ['notify', { userId: 'u2' }, 'jobs', 'delayed'],
      ['report', { n: 2 }, 'reports', 'waiting'],
    ]);
    expect(infos[2]?.maxAttempts).toBe(2);
    expect(infos[3]?.maxAttempts).toBe(5); // the handler's default
    const delayed = await client.queue.getJob(ids[2]!);
    expect(delayed?.opts.backoff).toEqual({ type: 'exponential', delay: 500 });
  });

  it('one invalid job: nothing is added and the error names its index and field', async () => {
    const { client } = open();
    const cases: [unknown[], string][] = [
      [[{ handler: 'notify', payload: { userId: 'u1' } }, { handler: 'report', payload: { n: 1 } }, { handler: 'notify', payload: { userId: '' } }], 'jobs[2].payload.userId'],
      [[{ handler: 'report', payload: { n: 1 } }, { handler: 'notify', payload: { userId: 'u' }, options: { delay: -1 } }], 'jobs[1].options.delay'],
      [[{ handler: 'nope', payload: {} }], 'jobs[0].handler'],
    ];
    for (const [jobs, field] of cases) {
      const err = await client.enqueueJobs(jobs as Parameters<typeof client.enqueueJobs>[0]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatchJobError);
      expect((err as BatchJobError).field).toBe(field);
    }
    await expect(client.enqueueJobs([])).rejects.toBeInstanceOf(JobOptionsError);
    await expect(client.enqueueJobs(Array.from({ length: 1_001 }, () => ({ handler: 'notify' as const, payload: { userId: 'u' } })))).rejects.toThrow(/1–1000 jobs/);
    expect(await jobsIn(client)).toEqual({ jobs: [], reports: [] });
  });

  it('dedupeKey inside a batch and against an existing job: the equal job answers the first id', async () => {
    const { client } = open();
    const before = await client.enqueueJob('notify', { userId: 'old' }, { dedupeKey: 'k0' });
    const ids = await client.enqueueJobs([
      { handler: 'notify', payload: { userId: 'a' }, options: { dedupeKey: 'k1' } },
      { handler: 'notify', payload: { userId: 'b' }, options: { dedupeKey: 'k1' } },
      { handler: 'notify', payload: { userId: 'c' }, options: { dedupeKey: 'k0' } },
      { handler: 'notify', payload: { userId: 'd' } },
    ]);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(before);
    expect((await client.getJob(ids[0]!))?.payload).toEqual({ userId: 'a' }); // the first one stays
    expect((await jobsIn(client)).jobs).toEqual([before, ids[0], ids[3]].sort());
  });

  it('superseding jobs inside a batch and against an existing one: the last of each key survives, stamps in batch order', async () => {
    const { client, prefix } = open();
    const existing = await client.enqueueJob('sync', { key: 'A', v: 0 });
    const ids = await client.enqueueJobs([
      { handler: 'sync', payload: { key: 'A', v: 1 } },
      { handler: 'notify', payload: { userId: 'x' } },
      { handler: 'sync', payload: { key: 'B', v: 1 } },
      { handler: 'sync', payload: { key: 'A', v: 2 } },
    ]);
    // Existing A and the batch's first A were superseded (removed before they started).
    expect(await client.getJob(existing)).toBeUndefined();
    expect(await client.getJob(ids[0]!)).toBeUndefined();
    expect((await client.getJob(ids[3]!))?.payload).toEqual({ key: 'A', v: 2 });
    expect((await client.getJob(ids[2]!))?.payload).toEqual({ key: 'B', v: 1 });
    const keys = redisKeys(prefix, 'jobs');
    const stamps = await Promise.all([existing, ...ids].map(async (id) => (await redis.hget(keys.jobHash(id), 'data')) ?? 'null'));
    expect(stamps[0]).toBe('null'); // removed
    const seqOf = (data: string) => (JSON.parse(data) as { supersedeSeq?: number } | null)?.supersedeSeq;
    expect([seqOf(stamps[3]!), seqOf(stamps[4]!)]).toEqual([3, 4]); // existing 1, A1 2, B 3, A2 4
    expect(parsePointer(await redis.get(keys.supersedeLatest('sync', 'sync:A')))).toEqual({ stamp: 4, jobId: ids[3] });
    expect(parsePointer(await redis.get(keys.supersedeLatest('sync', 'sync:B')))).toEqual({ stamp: 3, jobId: ids[2] });
  });

  it('1,000 jobs in one call', async () => {
    const { client } = open();
    const started = performance.now();
    const ids = await client.enqueueJobs(Array.from({ length: 1_000 }, (_, i) => (i % 2 ? { handler: 'notify' as const, payload: { userId: `u${i}` } } : { handler: 'report' as const, payload: { n: i } })));
    const ms = performance.now() - started;
    expect(new Set(ids).size).toBe(1_000);
    expect(await client.queues.get('jobs')!.count()).toBe(500);
    expect(await client.queues.get('reports')!.count()).toBe(500);
    expect(ms).toBeLessThan(2_000);
  });

  it('Redis gone at the second queue: the jobs of the first are fully enqueued (their supersede done), none of the second', async () => {
    const proxy = await startCutProxy(6379);
    cleanups.push(() => proxy.close());
    const { client, prefix } = open(`redis://127.0.0.1:${proxy.port}`, 3_000);
    const older = await client.enqueueJob('sync', { key: 'A', v: 0 });
    await client.enqueueJobs([{ handler: 'sync', payload: { key: 'W', v: 0 } }, { handler: 'report', payload: { n: 0 } }]); // scripts loaded
    proxy.cutAfter(16 * 1024, 'MULTI', 2); // the 'jobs' transaction passes, the 'reports' one is cut
    const err = await client.enqueueJobs([
      { handler: 'sync', payload: { key: 'A', v: 1 } },
      ...Array.from({ length: 300 }, (_, n) => ({ handler: 'report' as const, payload: { n } })),
    ]).catch((e: unknown) => e);
    await proxy.cut;
    expect(err).toBeInstanceOf(QueueUnavailableError);
    const keys = redisKeys(prefix, 'jobs');
    expect(await redis.exists(keys.jobHash(older))).toBe(0); // superseded by the batch's A
    const { jobId: latest } = parsePointer(await redis.get(keys.supersedeLatest('sync', 'sync:A')));
    expect(JSON.parse((await redis.hget(keys.jobHash(latest!), 'data'))!)).toMatchObject({ payload: { key: 'A', v: 1 } });
    const reports = new Queue('reports', { connection: redis, prefix });
    cleanups.push(() => reports.close());
    expect(await reports.count()).toBe(1); // the warm-up's only
  });

  it('Redis gone part-way through sending a batch: QueueUnavailableError and none of its jobs added', async () => {
    const proxy = await startCutProxy(6379);
    cleanups.push(() => proxy.close());
    const { client, prefix } = open(`redis://127.0.0.1:${proxy.port}`, 3_000);
    await client.enqueueJobs([{ handler: 'notify', payload: { userId: 'warm-up' } }, { handler: 'report', payload: { n: 0 } }]); // scripts loaded
    const note = 'x'.repeat(500);
    // About 700 KB on the wire; the first 64 KiB reach Redis (dozens of whole add commands).
    proxy.cutAfter(64 * 1024, 'MULTI');
    const err = await client.enqueueJobs(Array.from({ length: 1_000 }, (_, i) => ({ handler: 'notify' as const, payload: { userId: `u${i}`, note } }))).catch((e: unknown) => e);
    await proxy.cut;
    expect(err).toBeInstanceOf(QueueUnavailableError);
    const direct = new Queue('jobs', { connection: redis, prefix });
    cleanups.push(() => direct.close());
    expect(await direct.count()).toBe(1); // the warm-up job only
  });
});
