import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/index.js';
import { createMetricsRegistry, type Registry } from '../../src/metrics/index.js';
import { publishCronChanged, type CronChange } from '../../src/cron/index.js';
import { builtinSchedulesWith, startCronScheduler, type CronScheduler, type CronSchedulerOptions, type PassReport } from '../../src/scheduler/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { insertRow, schedulers, untilSchedulers } from './scheduler-kit.js';

// One scheduler in this process against real Postgres and Redis: what each row change does to
// the job schedulers in Redis.
describe('scheduler sync (in-process)', () => {
  let prefix: string;
  let t: TestDatabase;
  let redis: Redis;
  let queue: Queue;
  let scheduler: CronScheduler | undefined;
  let passes: PassReport[];
  let metrics: Registry;
  const logs = captureLogger('info');

  beforeEach(async () => {
    prefix = testPrefix('sync');
    t = await createTestDatabase();
    redis = new Redis(TEST_REDIS_URL);
    queue = new Queue('jobs', { connection: redis, prefix });
    passes = [];
    metrics = createMetricsRegistry('scheduler', { defaultMetrics: false });
    logs.lines.length = 0;
  });
  afterEach(async () => {
    await scheduler?.close();
    scheduler = undefined;
    await queue.close();
    await redis.quit();
    await t.close();
    await cleanupPrefix(prefix);
  });

  /** Starts the scheduler (closing one already started, so a test can restart it with other options). */
  async function start(options: Partial<CronSchedulerOptions> = {}): Promise<CronScheduler> {
    await scheduler?.close();
    passes = [];
    metrics = createMetricsRegistry('scheduler', { defaultMetrics: false });
    scheduler = startCronScheduler({
      db: t.db,
      redisUrl: TEST_REDIS_URL,
      prefix,
      logger: logs.log,
      metrics,
      onPass: (p) => passes.push(p),
      ...options,
    });
    await sleepUntil(() => passes.some((p) => p.kind === 'full'), { message: 'first full pass' });
    return scheduler;
  }
  const publish = (change: CronChange) => publishCronChanged(redis, redisKeys(prefix, 'jobs'), change);
  const ids = (s: Awaited<ReturnType<typeof schedulers>>) => s.map((x) => x.id);

  // How fast (SPEC §5: within a second) is measured by bench/scheduler-sync (p99 ~8 ms); a timed
  // assertion here would be flaky on a loaded CI machine, so each step just has to land.
  it('create, change pattern, disable, enable, change payload and attempts, rename, delete: Redis follows each step', async () => {
    await start();
    const row = await insertRow(t.db, { pattern: '*/5 * * * *', payload: { message: 'one' }, max_attempts: 4, backoff_ms: 2_000 });
    const timed = async (change: CronChange, pick: Parameters<typeof untilSchedulers>[1], expected: unknown) => {
      expect(await publish(change)).toBe(true);
      await untilSchedulers(queue, pick, expected, 5_000);
    };

    await timed({ cronJobId: row.id, op: 'create' }, (s) => s, [
      {
        id: row.job_id,
        pattern: '*/5 * * * *',
        tz: 'UTC',
        name: 'echo',
        data: { type: 'cron', payload: { message: 'one' }, cronJobId: row.id },
        attempts: 4,
        backoff: { type: 'exponential', delay: 2_000 },
      },
    ]);

    await t.db.updateTable('cron_job').set({ pattern: '0 3 * * *' }).where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'update' }, (s) => s.map((x) => x.pattern), ['0 3 * * *']);
    // The next job of the scheduler follows the new pattern: 03:00 UTC.
    const one = await queue.getJobScheduler(row.job_id);
    expect(new Date(one!.next!).toISOString()).toMatch(/T03:00:00\.000Z$/);

    await t.db.updateTable('cron_job').set({ enabled: false }).where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'update' }, ids, []);

    await t.db.updateTable('cron_job').set({ enabled: true }).where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'update' }, ids, [row.job_id]);

    await t.db.updateTable('cron_job').set({ payload: { message: 'two' }, max_attempts: 1, backoff_ms: 500 }).where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'update' }, (s) => s.map((x) => [x.data, x.attempts, x.backoff]), [
      [{ type: 'cron', payload: { message: 'two' }, cronJobId: row.id }, 1, { type: 'exponential', delay: 500 }],
    ]);

    // A new job_id: the old scheduler goes, found through the row id alone (no jobId in the message).
    await t.db.updateTable('cron_job').set({ job_id: 'renamed' }).where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'update' }, ids, ['renamed']);

    await t.db.deleteFrom('cron_job').where('id', '=', row.id).execute();
    await timed({ cronJobId: row.id, op: 'delete' }, ids, []);
    // No run of the row is left waiting (the built-in retention's next run is not a row's).
    expect((await queue.getDelayed()).filter((j) => !j.id?.startsWith('repeat:builtin:'))).toEqual([]);
  });

  it('a pass with nothing changed writes nothing, so no next run moves', async () => {
    const rows = await Promise.all([insertRow(t.db, { pattern: '*/10 * * * * *' }), insertRow(t.db), insertRow(t.db, { enabled: false })]);
    const s = await start();
    expect(passes[0]!.result).toEqual({ upserted: 2, removed: 0, unchanged: 0, failed: 0 });
    const before = await queue.getJobSchedulers();
    const delayedBefore = (await queue.getDelayed()).map((j) => j.id).sort();
    const eventsBefore = await redis.xlen(`${prefix}:jobs:events`);

    const report = await s.reconcileNow();
    expect(report.result).toEqual({ upserted: 0, removed: 0, unchanged: 2, failed: 0 });
    // Messages about rows that did not change are no-ops too.
    for (const row of rows) await publish({ cronJobId: row.id, op: 'update' });
    await sleepUntil(() => passes.filter((p) => p.kind === 'change').length > 0 && passes.at(-1)!.kind === 'change', { message: 'change pass' });
    expect(passes.filter((p) => p.kind === 'change').every((p) => p.result!.upserted + p.result!.removed === 0)).toBe(true);

    expect(await queue.getJobSchedulers()).toEqual(before);
    expect((await queue.getDelayed()).map((j) => j.id).sort()).toEqual(delayedBefore);
    // Every upsert or removal adds to the queue's event stream; none was added.
    expect(await redis.xlen(`${prefix}:jobs:events`)).toBe(eventsBefore);
  });

  it('a bad row (unknown handler, bad pattern or payload) is skipped with an error and a metric; the others sync', async () => {
    // A scheduler with no row is removed at start.
    await queue.upsertJobScheduler('orphan', { pattern: '0 0 * * *', tz: 'UTC' }, { name: 'echo', data: {} });
    const good1 = await insertRow(t.db);
    const unknown = await insertRow(t.db, { handler: 'noSuchHandler' });
    const badPattern = await insertRow(t.db, { pattern: '61 * * * *' });
    const badPayload = await insertRow(t.db, { payload: { nope: true } });
    const good2 = await insertRow(t.db);

    await start();
    expect(passes[0]).toMatchObject({ kind: 'full', outcome: 'partial', result: { upserted: 2, removed: 1, unchanged: 0, failed: 3 } });
    expect(ids(await schedulers(queue))).toEqual([good1.job_id, good2.job_id].sort());

    const errors = logs.lines.filter((l) => l.level === 50 && l.msg.startsWith('cron row skipped'));
    expect(errors.map((l) => [l.jobId, l.reason])).toEqual(
      expect.arrayContaining([
        [unknown.job_id, 'unknown_handler'],
        [badPattern.job_id, 'invalid_pattern'],
        [badPayload.job_id, 'invalid_payload'],
      ]),
    );
    expect(errors.find((l) => l.reason === 'invalid_pattern')?.error).toContain('minute field "61"');
    const text = await metrics.metrics();
    expect(text).toMatch(/scheduler_row_failures_total\{reason="unknown_handler",service="scheduler"\} 1/);
    expect(text).toMatch(/scheduler_rows\{outcome="failed",service="scheduler"\} 3/);
    expect(text).toMatch(/scheduler_rows\{outcome="upserted",service="scheduler"\} 2/);
    expect(text).toMatch(/scheduler_is_leader\{service="scheduler"\} 1/);
    expect(text).toMatch(/scheduler_last_pass_timestamp_seconds\{service="scheduler"\} \d+/);

    // A synced row whose handler disappears keeps its scheduler (a deploy must not wipe schedules) and is reported.
    await t.db.updateTable('cron_job').set({ handler: 'goneHandler' }).where('id', '=', good1.id).execute();
    await publish({ cronJobId: good1.id, op: 'update' });
    await sleepUntil(() => passes.some((p) => p.kind === 'change' && p.result?.failed === 1), { message: 'failed change pass' });
    expect(ids(await schedulers(queue))).toEqual([good1.job_id, good2.job_id].sort());

    // Fixing a bad row syncs it.
    await t.db.updateTable('cron_job').set({ handler: 'echo' }).where('id', '=', unknown.id).execute();
    await publish({ cronJobId: unknown.id, op: 'update' });
    await untilSchedulers(queue, ids, [good1.job_id, good2.job_id, unknown.job_id].sort());
  });

  it('rows inserted, changed and deleted in plain SQL, with no message, are synced by the periodic pass', async () => {
    await start({ reconcileMs: 300 });
    const row = await insertRow(t.db, { pattern: '0 5 * * *' });
    await untilSchedulers(queue, (s) => s.map((x) => [x.id, x.pattern]), [[row.job_id, '0 5 * * *']]);
    await t.db.updateTable('cron_job').set({ pattern: '0 6 * * *' }).execute();
    await untilSchedulers(queue, (s) => s.map((x) => x.pattern), ['0 6 * * *']);
    await t.db.deleteFrom('cron_job').execute();
    await untilSchedulers(queue, ids, []);
  });

  it('a leader that loses its lock stops acting at once, ignores changes, and syncs again once it leads again', async () => {
    const s = await start({ leader: { ttlMs: 1_500, renewMs: 200, retryMs: 200 } });
    const lockKey = redisKeys(prefix, 'jobs').schedulerLeader;
    // Another process took the lock (as after a long pause): the next renewal notices.
    await redis.set(lockKey, 'someone-else', 'PX', 60_000);
    await sleepUntil(() => !s.isLeader, { timeoutMs: 2_000, message: 'leader to step down' });
    expect(await metrics.metrics()).toMatch(/scheduler_is_leader\{service="scheduler"\} 0/);

    const row = await insertRow(t.db);
    const passesWhileDeposed = passes.length;
    await publish({ cronJobId: row.id, op: 'create' });
    // Asserting an absence needs a window: a leader would have synced within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(passes.length).toBe(passesWhileDeposed);
    expect(await schedulers(queue)).toEqual([]);
    await expect(s.reconcileNow()).rejects.toThrow('not the scheduler leader');

    // The other holder goes away: this process takes over and catches up with a full pass.
    await redis.del(lockKey);
    await sleepUntil(() => s.isLeader, { timeoutMs: 3_000, message: 're-election' });
    await untilSchedulers(queue, ids, [row.job_id]);
  });

  // SPEC §14: retention runs daily without any cron row; cron rows cannot name internal handlers.
  const RETENTION = 'builtin:webhookEventRetention';
  const keys = async () => (await queue.getJobSchedulers()).map((s) => s.key).sort();

  it('keeps the retention scheduler without any cron row; reconcile passes (full and change) keep it; it is not a row', async () => {
    const s = await start();
    expect(await t.db.selectFrom('cron_job').select('id').execute()).toEqual([]);
    const builtin = await queue.getJobScheduler(RETENTION);
    expect(builtin).toMatchObject({ key: RETENTION, pattern: '17 3 * * *', tz: 'UTC', name: 'webhookEventRetention' });
    expect(builtin!.template?.data).toEqual({ type: 'cron', payload: {} });
    expect(builtin!.template?.opts).toMatchObject({ attempts: 3 });
    // Its first run waits, delayed until 03:17 UTC.
    const [next] = (await queue.getDelayed()).filter((j) => j.name === 'webhookEventRetention');
    expect(new Date(next!.timestamp + next!.delay).toISOString()).toMatch(/T03:17:00\.000Z$/);
    expect(passes[0]!.result).toEqual({ upserted: 0, removed: 0, unchanged: 0, failed: 0 }); // rows only

    // A full pass with rows around, and change passes about them, leave it as it is (no write).
    const row = await insertRow(t.db);
    const events = await redis.xlen(`${prefix}:jobs:events`);
    const report = await s.reconcileNow();
    expect(report.result).toEqual({ upserted: 1, removed: 0, unchanged: 0, failed: 0 });
    expect(await keys()).toEqual([RETENTION, row.job_id].sort());
    await t.db.deleteFrom('cron_job').where('id', '=', row.id).execute();
    await publishCronChanged(redis, redisKeys(prefix, 'jobs'), { cronJobId: row.id, op: 'delete', jobId: row.job_id });
    await sleepUntil(async () => (await keys()).length === 1, { message: 'the row scheduler removed' });
    await s.reconcileNow();
    expect(await keys()).toEqual([RETENTION]);
    expect(await queue.getJobScheduler(RETENTION)).toEqual(builtin);
    // Two writes for the row (upsert, remove), none for the built-in one.
    expect(await redis.xlen(`${prefix}:jobs:events`)).toBeLessThanOrEqual(events + 4);

    // Removed behind its back (FLUSH, an operator): the next full pass puts it back.
    await queue.removeJobScheduler(RETENTION);
    await s.reconcileNow();
    expect(await queue.getJobScheduler(RETENTION)).toMatchObject({ pattern: '17 3 * * *' });
  });

  it('follows its setting: another pattern is written over it, and "off" removes it', async () => {
    await start();
    await sleepUntil(async () => (await keys()).includes(RETENTION), { message: 'built-in scheduler' });
    await start({ builtinSchedules: builtinSchedulesWith({ webhookEventRetention: '0 4 * * *' }) });
    expect(await queue.getJobScheduler(RETENTION)).toMatchObject({ pattern: '0 4 * * *', tz: 'UTC' });
    await start({ builtinSchedules: builtinSchedulesWith({ webhookEventRetention: false }) });
    expect(await keys()).toEqual([]);
  });

  it('a row written in SQL naming an internal handler is skipped with an error and a metric, and loses the scheduler it had; a row cannot take a built-in id', async () => {
    const internal = await insertRow(t.db, { handler: 'webhookEventRetention', payload: {} });
    const delivery = await insertRow(t.db, { handler: 'sendWebhook', payload: { subscriptionId: 'x', action: 'create', resourceId: 'r', data: {} } });
    const squatter = await insertRow(t.db, { job_id: RETENTION, pattern: '* * * * *', handler: 'echo', payload: { message: 'mine now' } });
    const good = await insertRow(t.db);
    // A scheduler left from when this row could still be synced (before the handler was internal).
    await queue.upsertJobScheduler(internal.job_id, { pattern: '0 * * * *', tz: 'UTC' }, { name: 'webhookEventRetention', data: { type: 'cron', payload: {}, cronJobId: internal.id } });

    await start();
    expect(passes[0]).toMatchObject({ kind: 'full', outcome: 'partial', result: { upserted: 1, removed: 1, failed: 3 } });
    expect(await keys()).toEqual([RETENTION, good.job_id].sort());
    expect(await queue.getJobScheduler(RETENTION)).toMatchObject({ pattern: '17 3 * * *', name: 'webhookEventRetention' });

    const errors = logs.lines.filter((l) => l.level === 50 && l.msg.startsWith('cron row skipped'));
    expect(errors.map((l) => [l.jobId, l.reason])).toEqual(
      expect.arrayContaining([
        [internal.job_id, 'internal_handler'],
        [delivery.job_id, 'internal_handler'],
        [squatter.job_id, 'reserved_job_id'],
      ]),
    );
    expect(errors.find((l) => l.jobId === delivery.job_id)?.error).toMatch(/"sendWebhook" is internal/);
    const text = await metrics.metrics();
    expect(text).toMatch(/scheduler_row_failures_total\{reason="internal_handler",service="scheduler"\} 2/);
    expect(text).toMatch(/scheduler_row_failures_total\{reason="reserved_job_id",service="scheduler"\} 1/);

    // A change message about such a row does not sync it either.
    await publishCronChanged(redis, redisKeys(prefix, 'jobs'), { cronJobId: delivery.id, op: 'update', jobId: delivery.job_id });
    await publishCronChanged(redis, redisKeys(prefix, 'jobs'), { cronJobId: squatter.id, op: 'update', jobId: RETENTION });
    await sleepUntil(() => passes.filter((p) => p.kind === 'change').reduce((n, p) => n + (p.result?.failed ?? 0), 0) >= 2, { message: 'change passes' });
    expect(await keys()).toEqual([RETENTION, good.job_id].sort());
    expect(await queue.getJobScheduler(RETENTION)).toMatchObject({ pattern: '17 3 * * *', name: 'webhookEventRetention' });
  });
});
