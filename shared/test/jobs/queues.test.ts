import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, jobRef, makeJob, makeSingletonJob, makeSupersedingJob, parseJobRef, type JobClient, type JobWorker } from '../../src/index.js';
import { makeEnvelope, queueNamesOf, workerQueues } from '../../src/jobs/index.js';
import { ConfigError, loadConfig, type Config } from '../../src/config/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { startCronScheduler } from '../../src/scheduler/index.js';
import { startWorkerService } from '../../../services/worker/src/worker-service.js';
import { onDefault, queueHandlers } from '../../../test/fixtures/queue-handlers.js';
import { createTestDatabase } from '../../../test/helpers/db.js';
import { captureLogger, cleanupPrefix, killAll, sleepUntil, spawnTs, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';

type Note = { event: string; tag: string; jobId: string; pid: number; at: number };

const prefixes: string[] = [];
const children: Child[] = [];
const closers: Array<() => Promise<unknown>> = [];
const redis = new Redis(TEST_REDIS_URL);

afterAll(() => redis.quit());
afterEach(async () => {
  await killAll(children);
  for (const close of closers.splice(0).reverse()) await close();
  for (const p of prefixes.splice(0)) await cleanupPrefix(p);
});

function setup(label: string) {
  const prefix = testPrefix(label);
  prefixes.push(prefix);
  const client = createJobClient({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix });
  closers.push(() => client.close());
  const notes = async (list: string) => (await redis.lrange(list, 0, -1)).map((raw) => JSON.parse(raw) as Note);
  return { prefix, client, notes, list: `${prefix}:notes` };
}

/** A worker process of the queue handlers; `WORKER_QUEUES` as given (unset = every queue). */
async function workerChild(prefix: string, workerQueuesEnv?: string): Promise<Child> {
  const child = spawnTs('test/fixtures/queue-worker-process.ts', {
    APP_ENV: 'test',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ...(workerQueuesEnv === undefined ? {} : { WORKER_QUEUES: workerQueuesEnv }),
  });
  children.push(child);
  await sleepUntil(() => child.output().includes('worker-ready') || child.proc.exitCode !== null, { timeoutMs: 30_000, message: 'queue worker ready' });
  if (child.proc.exitCode !== null) throw new Error(`queue worker exited early:\n${child.output()}`);
  return child;
}

describe('queue option and job ids across queues (SPEC §12)', () => {
  const run = async () => undefined;

  it('checks `queue` at definition time on all three make*Job', () => {
    expect(makeJob(run, { queue: 'reports' }).queue).toBe('reports');
    expect(makeJob(run).queue).toBeUndefined();
    for (const bad of ['Reports', '1st', 'a_b', 'a:b', '', 'x'.repeat(49), 'with space']) {
      expect(() => makeJob(run, { queue: bad }), bad).toThrow(/^queue must match/);
      expect(() => makeSingletonJob(run, { queue: bad }), bad).toThrow(/^queue must match/);
      expect(() => makeSupersedingJob(run, () => 'k', { queue: bad }), bad).toThrow(/^queue must match/);
    }
    expect(queueNamesOf(queueHandlers, 'jobs')).toEqual(['jobs', 'critical', 'reports']);
  });

  it('ids: plain on the default queue, <queue>~<id> elsewhere, and every default-queue id shape stays the default queue', () => {
    expect(jobRef('jobs', '17', 'jobs')).toBe('17');
    expect(jobRef('reports', 'repeat:nightly:1700000000000', 'jobs')).toBe('reports~repeat:nightly:1700000000000');
    expect(parseJobRef('reports~repeat:nightly:1700000000000', 'jobs')).toEqual({ queue: 'reports', id: 'repeat:nightly:1700000000000' });
    expect(parseJobRef('reports~idem-a.b_c', 'jobs')).toEqual({ queue: 'reports', id: 'idem-a.b_c' });
    for (const id of ['17', 'repeat:nightly:1700000000000', 'idem-AbC_d-9', 'outbox.12.sub-3', 'builtin:x']) {
      expect(parseJobRef(id, 'jobs')).toEqual({ queue: 'jobs', id });
    }
    expect(parseJobRef('', 'jobs')).toBeUndefined();
  });

  it('the same BullMQ id on two queues is two jobs; get and cancel find each on its own queue', async () => {
    const { client, list } = setup('qids');
    const onJobs = await client.enqueueJob('onDefault', { list, tag: 'd', ms: 0 });
    const onReports = await client.enqueueJob('onReports', { list, tag: 'r', ms: 0 });
    expect(onJobs).toBe('1');
    expect(onReports).toBe('reports~1');
    expect(client.queueOf('onReports')).toBe('reports');
    expect([...client.queues.keys()]).toEqual(['jobs', 'critical', 'reports']);
    expect(await client.getJob(onJobs)).toMatchObject({ id: '1', queue: 'jobs', handler: 'onDefault', state: 'waiting' });
    expect(await client.getJob(onReports)).toMatchObject({ id: 'reports~1', queue: 'reports', handler: 'onReports', state: 'waiting' });
    expect(await client.getJob('critical~1')).toBeUndefined();
    expect(await client.getJob('nosuchqueue~1')).toBeUndefined();
    expect(await client.cancelJob(onReports)).toBe('removed');
    expect(await client.getJob(onReports)).toBeUndefined();
    expect(await client.getJob(onJobs)).toMatchObject({ state: 'waiting' });
    expect(await client.cancelJob('nosuchqueue~1')).toBe('not_found');
  });

  it('across processes: cancel and supersede a running job off the default queue, with its keys under its own queue', async () => {
    const { prefix, client, notes, list } = setup('qabort');
    await workerChild(prefix);
    const slow = await client.enqueueJob('onReports', { list, tag: 'slow', ms: 30_000 });
    await sleepUntil(async () => (await notes(list)).some((n) => n.tag === 'slow' && n.event === 'start'), { message: 'slow started' });
    expect(await client.cancelJob(slow)).toBe('aborting');
    await sleepUntil(async () => (await client.getJob(slow))?.state === 'cancelled', { message: 'cancelled' });
    expect((await notes(list)).filter((n) => n.tag === 'slow').map((n) => n.event)).toEqual(['start', 'aborted']);

    const older = await client.enqueueJob('latestReport', { list, tag: 'k', ms: 30_000 });
    await sleepUntil(async () => (await notes(list)).some((n) => n.tag === 'k' && n.event === 'start'), { message: 'older started' });
    const reportsKeys = redisKeys(prefix, 'reports');
    expect(await redis.exists(reportsKeys.supersedeLatest('latestReport', 'report:k'))).toBe(1);
    expect(await redis.exists(redisKeys(prefix, 'jobs').supersedeLatest('latestReport', 'report:k'))).toBe(0);
    const newer = await client.enqueueJob('latestReport', { list, tag: 'k', ms: 0 });
    expect(newer).toMatch(/^reports~\d+$/);
    await sleepUntil(async () => (await client.getJob(newer))?.state === 'completed', { message: 'newer completed' });
    expect(await client.getJob(older)).toMatchObject({ state: 'superseded', queue: 'reports' });
    // ctx.jobId is the id the client answered (`reports~…`).
    const eventsOf = async (ref: string) => (await notes(list)).filter((n) => n.tag === 'k' && n.jobId === ref).map((n) => n.event);
    expect(await eventsOf(older)).toEqual(['start', 'aborted']);
    expect(await eventsOf(newer)).toEqual(['start', 'end']);
  }, 60_000);
});

describe('worker pools (SPEC §12)', () => {
  it('a slow backlog on one queue does not delay jobs on another: 2 worker processes', async () => {
    const { prefix, client, notes, list } = setup('qpool');
    await Promise.all([workerChild(prefix, 'critical:2,jobs:2,reports:1'), workerChild(prefix, 'critical:2,jobs:2,reports:1')]);
    // 2 report slots in all, 20 reports of 3 s: a 30 s backlog.
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.enqueueJob('onReports', { list, tag: `r${i}`, ms: 3_000 })));
    await sleepUntil(async () => (await notes(list)).filter((n) => n.event === 'start').length >= 2, { message: 'reports running' });
    const sent = Date.now();
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => client.enqueueJob('onCritical', { list, tag: `c${i}` })).concat(client.enqueueJob('onDefault', { list, tag: 'd' })));
    await sleepUntil(async () => (await Promise.all(ids.map((id) => client.getJob(id)))).every((j) => j?.state === 'completed'), { timeoutMs: 10_000, message: 'critical and default jobs done' });
    const done = await notes(list);
    const lateness = done.filter((n) => /^(c\d|d)$/.test(n.tag) && n.event === 'end').map((n) => n.at - sent);
    expect(lateness).toHaveLength(7);
    // Behind the reports they would wait ~30 s; on their own queues they start at once (the bound
    // leaves room for a loaded CI machine).
    expect(Math.max(...lateness)).toBeLessThan(3_000);
    // The reports are still queued behind their own 2 slots, never more at once.
    expect(done.filter((n) => n.tag.startsWith('r') && n.event === 'end').length).toBeLessThan(6);
    expect(ids.slice(0, 6).every((id) => id.startsWith('critical~'))).toBe(true);
  }, 60_000);

  it('a worker process runs only the queues WORKER_QUEUES names', async () => {
    const { prefix, client, list } = setup('qonly');
    const child = await workerChild(prefix, 'critical:3');
    expect(child.output()).toContain('worker-ready queues={"critical":3}');
    const report = await client.enqueueJob('onReports', { list, tag: 'r' });
    const plain = await client.enqueueJob('onDefault', { list, tag: 'd' });
    const critical = await client.enqueueJob('onCritical', { list, tag: 'c' });
    await sleepUntil(async () => (await client.getJob(critical))?.state === 'completed', { message: 'critical done' });
    expect((await client.getJob(report))?.state).toBe('waiting');
    expect((await client.getJob(plain))?.state).toBe('waiting');
    await workerChild(prefix); // unset: every queue of the registry
    await sleepUntil(async () => (await client.getJob(report))?.state === 'completed' && (await client.getJob(plain))?.state === 'completed', { message: 'the rest done' });
  }, 60_000);

  it('createWorker runs one BullMQ worker per queue, each with its concurrency (default: every queue at `concurrency`)', async () => {
    const prefix = testPrefix('qlib');
    prefixes.push(prefix);
    const all = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix, concurrency: 4, logger: captureLogger('warn').log });
    closers.push(() => all.close());
    const some = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix, queues: { reports: 2 }, logger: captureLogger('warn').log });
    closers.push(() => some.close());
    await Promise.all([all.waitUntilReady(), some.waitUntilReady()]);
    expect([...all.workers].map(([name, w]) => [name, w.opts.concurrency])).toEqual([['jobs', 4], ['critical', 4], ['reports', 4]]);
    expect(all.worker.name).toBe('jobs');
    expect([...some.workers].map(([name, w]) => [name, w.opts.concurrency])).toEqual([['reports', 2]]);
    expect(some.worker.name).toBe('reports');
  });

  it('ctx.jobId is the id the client answered (<queue>~<id> off the default queue), and the job log names it', async () => {
    const { prefix, client, notes, list } = setup('qctx');
    const worker = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
    closers.push(() => worker.close());
    // The same BullMQ id (1) on both queues: only the cross-queue id tells the two runs apart.
    const ids = [await client.enqueueJob('onDefault', { list, tag: 'd' }), await client.enqueueJob('onReports', { list, tag: 'r' })];
    expect(ids).toEqual(['1', 'reports~1']);
    await sleepUntil(async () => (await notes(list)).filter((n) => n.event === 'end').length === 2, { message: 'both ran' });
    const started = (await notes(list)).filter((n) => n.event === 'start');
    expect(Object.fromEntries(started.map((n) => [n.tag, n.jobId]))).toEqual({ d: '1', r: 'reports~1' });
    expect(await client.getJob(started.find((n) => n.tag === 'r')!.jobId)).toMatchObject({ queue: 'reports', handler: 'onReports', state: 'completed' });
  });
});

describe('shutdown across queues', () => {
  it('close() waits for the running jobs of every queue, then aborts them all at the timeout; they go back without an attempt spent', async () => {
    const { prefix, client, notes, list } = setup('qstop');
    const worker = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix, shutdownTimeoutMs: 500, logger: captureLogger('warn').log });
    closers.push(() => worker.close());
    await worker.waitUntilReady();
    const ids = await Promise.all([client.enqueueJob('onReports', { list, tag: 'r', ms: 30_000 }), client.enqueueJob('onCritical', { list, tag: 'c', ms: 30_000 }), client.enqueueJob('onDefault', { list, tag: 'd', ms: 30_000 })]);
    await sleepUntil(async () => (await notes(list)).filter((n) => n.event === 'start').length === 3, { message: 'three started' });
    await worker.close();
    expect((await notes(list)).filter((n) => n.event === 'aborted').map((n) => n.tag).sort()).toEqual(['c', 'd', 'r']);
    for (const id of ids) {
      const back = await client.getJob(id);
      expect(['waiting', 'delayed'], id).toContain(back?.state); // put back (a short delay) on its own queue
      expect(back, id).toMatchObject({ attemptsMade: 0 });
    }
  });
});

describe('WORKER_QUEUES (SPEC §12)', () => {
  it('parses name and name:concurrency; a bare name takes WORKER_CONCURRENCY; unset = every queue', () => {
    expect(loadConfig({ APP_ENV: 'test', WORKER_QUEUES: 'critical:20, jobs ,reports:2', WORKER_CONCURRENCY: '7' }).worker.queues).toEqual({ critical: 20, jobs: 7, reports: 2 });
    expect(loadConfig({ APP_ENV: 'test' }).worker.queues).toBeUndefined();
    expect(loadConfig({ APP_ENV: 'test', QUEUE_NAME: 'Legacy_Q', WORKER_QUEUES: 'Legacy_Q:3' }).worker.queues).toEqual({ Legacy_Q: 3 });
    for (const [bad, why] of [
      ['critical:0', /bad concurrency "0"/],
      ['critical:x', /bad concurrency "x"/],
      ['critical:-1', /bad concurrency/],
      ['Critical', /bad queue name "Critical"/],
      ['a,,b', /empty entry/],
      ['a,a:2', /twice/],
    ] as const) {
      expect(() => loadConfig({ APP_ENV: 'test', WORKER_QUEUES: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ APP_ENV: 'test', WORKER_QUEUES: bad }), bad).toThrow(why);
      expect(() => loadConfig({ APP_ENV: 'test', WORKER_QUEUES: bad }), bad).toThrow(/^invalid environment: WORKER_QUEUES /);
    }
  });

  it('a queue no handler uses is refused at start, naming WORKER_QUEUES, before anything connects', async () => {
    expect(() => workerQueues(queueHandlers, 'jobs', { nope: 1 }, 10)).toThrow(/queues names "nope", which no handler uses \(known queues: jobs, critical, reports\)/);
    expect([...workerQueues(queueHandlers, 'jobs', undefined, 5)]).toEqual([['jobs', 5], ['critical', 5], ['reports', 5]]);
    const config: Config = loadConfig({ APP_ENV: 'test', WORKER_QUEUES: 'jobs,billing', REDIS_URL: 'redis://127.0.0.1:1' });
    const started = startWorkerService(config, captureLogger('warn').log, { db: undefined as never, healthPort: false });
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(/^invalid environment: WORKER_QUEUES names "billing", which no handler uses \(known queues: jobs\)$/);
  });
});

describe('upgrade compatibility (SPEC §12: handlers without `queue` stay on QUEUE_NAME)', () => {
  it('a job and a job scheduler written in the pre-queues shape on bull:jobs still run, with their plain ids', async () => {
    const { prefix, client, notes, list } = setup('qup');
    // What today's code writes: BullMQ's queue `jobs` under the prefix, the {type, payload} envelope.
    const legacy = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    closers.push(() => legacy.close());
    const job = await legacy.add('onDefault', makeEnvelope({ list, tag: 'legacy', ms: 0 }), { attempts: 1 });
    await legacy.upsertJobScheduler('legacy-every-second', { pattern: '* * * * * *', tz: 'UTC' }, { name: 'onDefault', data: makeEnvelope({ list, tag: 'cron', ms: 0 }, 'cron', 'row-1') });
    const worker: JobWorker = createWorker({ handlers: queueHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
    closers.push(() => worker.close());
    await sleepUntil(async () => (await client.getJob(job.id!))?.state === 'completed', { message: 'legacy job completed' });
    expect(await client.getJob(job.id!)).toMatchObject({ id: job.id, queue: 'jobs', handler: 'onDefault', result: { tag: 'legacy', aborted: false } });
    await sleepUntil(async () => (await notes(list)).some((n) => n.tag === 'cron' && n.event === 'end'), { timeoutMs: 5_000, message: 'scheduler run' });
    const cronRun = (await notes(list)).find((n) => n.tag === 'cron')!;
    expect(await client.getJob(cronRun.jobId)).toMatchObject({ id: cronRun.jobId, queue: 'jobs', type: 'cron', cronJobId: 'row-1' });
    expect(cronRun.jobId).toMatch(/^repeat:legacy-every-second:\d+$/);
    await legacy.removeJobScheduler('legacy-every-second');
  });
});

describe('scheduler and queues (SPEC §12)', () => {
  it("puts a cron row's scheduler (and a built-in schedule's) on its handler's queue, and moves it on the next pass when the handler moves", async () => {
    const prefix = testPrefix('qsched');
    prefixes.push(prefix);
    const t = await createTestDatabase();
    closers.push(() => t.close());
    const payload = { list: `${prefix}:notes`, tag: 'x', ms: 0 };
    await t.db.insertInto('cron_job').values({ job_id: 'move-me', name: 'Mover', pattern: '0 3 * * *', handler: 'mover', payload }).execute();
    const builtin = [{ id: 'builtin:mover', handler: 'mover', pattern: '0 4 * * *', payload, description: 'test' }];
    const jobs = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    const reports = new Queue('reports', { connection: { url: TEST_REDIS_URL }, prefix });
    closers.push(() => Promise.all([jobs.close(), reports.close()]));
    const ids = async (q: Queue) => (await q.getJobSchedulers()).map((s) => s.key).sort();

    const start = (handlers: Parameters<typeof startCronScheduler>[0]['handlers']) => {
      const s = startCronScheduler({ db: t.db, redisUrl: TEST_REDIS_URL, prefix, handlers, builtinSchedules: builtin, logger: captureLogger('warn').log, leader: { ttlMs: 2_000, renewMs: 400, retryMs: 200 } });
      closers.push(() => s.close());
      return s;
    };
    const before = start({ mover: onDefault });
    await sleepUntil(async () => (await ids(jobs)).length === 2, { message: 'schedulers on jobs' });
    expect(await ids(jobs)).toEqual(['builtin:mover', 'move-me']);
    expect(await ids(reports)).toEqual([]);
    await before.close();

    // The same handler name, now declared on `reports` (a deploy that moved it).
    const after = start({ mover: makeJob(onDefault.run, { schema: onDefault.schema, queue: 'reports' }) });
    await sleepUntil(async () => (await ids(reports)).length === 2 && (await ids(jobs)).length === 0, { message: 'schedulers moved to reports' });
    expect(await ids(reports)).toEqual(['builtin:mover', 'move-me']);
    const moved = (await reports.getJobSchedulers()).find((s) => s.key === 'move-me')!;
    expect(moved).toMatchObject({ pattern: '0 3 * * *', name: 'mover' });
    // Once moved, a pass leaves it alone (no rewrite that would shift its next run).
    const report = await after.reconcileNow();
    expect(report.result).toMatchObject({ upserted: 0, removed: 0, unchanged: 1, failed: 0 });
    await after.close();

    // And back: the registry no longer names `reports` at all, yet its schedulers are found and moved.
    start({ mover: onDefault });
    await sleepUntil(async () => (await ids(jobs)).length === 2 && (await ids(reports)).length === 0, { message: 'schedulers moved back to jobs' });
    expect(await ids(jobs)).toEqual(['builtin:mover', 'move-me']);
    expect(await redis.smembers(redisKeys(prefix, 'jobs').schedulerQueues)).toEqual(['jobs']);
  });
});
