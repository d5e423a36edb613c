import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  builtinSchedulesWith,
  createMetricsRegistry,
  loadConfig,
  publishCronChanged,
  redisKeys,
  startCronScheduler,
  type CronScheduler,
  type CronSchedulerOptions,
  type PassReport,
  type Registry,
} from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { insertRow } from './scheduler-kit.js';

const RETENTION = 'builtin:webhookEventRetention';

// SPEC §14: retention runs daily without any cron row; cron rows cannot name internal handlers.
describe('built-in schedules and internal handlers (scheduler, in-process)', () => {
  let prefix: string;
  let t: TestDatabase;
  let redis: Redis;
  let queue: Queue;
  let scheduler: CronScheduler | undefined;
  let passes: PassReport[];
  let metrics: Registry;
  const logs = captureLogger('info');

  beforeEach(async () => {
    prefix = testPrefix('builtin');
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

  async function start(options: Partial<CronSchedulerOptions> = {}): Promise<CronScheduler> {
    await scheduler?.close();
    passes = [];
    metrics = createMetricsRegistry('scheduler', { defaultMetrics: false });
    scheduler = startCronScheduler({ db: t.db, redisUrl: TEST_REDIS_URL, prefix, logger: logs.log, metrics, onPass: (p) => passes.push(p), ...options });
    await sleepUntil(() => passes.some((p) => p.kind === 'full'), { message: 'first full pass' });
    return scheduler;
  }
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

describe('WEBHOOK_EVENT_RETENTION_SCHEDULE', () => {
  it('defaults to 03:17 UTC daily, takes another cron pattern or "off", and refuses anything else naming the variable', () => {
    expect(loadConfig({ APP_ENV: 'test' }).webhook.eventRetentionSchedule).toBe('17 3 * * *');
    expect(loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: '0 4 * * 0' }).webhook.eventRetentionSchedule).toBe('0 4 * * 0');
    expect(loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: 'off' }).webhook.eventRetentionSchedule).toBe(false);
    expect(() => loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: '61 * * * *' })).toThrow(/WEBHOOK_EVENT_RETENTION_SCHEDULE.*minute/);
    expect(builtinSchedulesWith({ webhookEventRetention: false })).toEqual([]);
    expect(builtinSchedulesWith({}).map((s) => [s.id, s.handler, s.pattern])).toEqual([[RETENTION, 'webhookEventRetention', '17 3 * * *']]);
  });
});
