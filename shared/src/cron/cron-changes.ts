import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';

/** What happened to a `cron_job` row. */
export type CronChangeOp = 'create' | 'update' | 'delete';
export const cronChangeOps: readonly CronChangeOp[] = ['create', 'update', 'delete'];

/** The message on `keys.cronChangedChannel`: one committed change of one `cron_job` row. */
export interface CronChange {
  /** `cron_job.id` of the row. */
  cronJobId: string;
  op: CronChangeOp;
  /**
   * The row's `job_id` (the scheduler id) before the change, when known. Optional: the scheduler
   * also finds a deleted or renamed row's scheduler by its `cronJobId`; this just makes it certain.
   */
  jobId?: string;
}

const MAX_FIELD = 1_024;

/**
 * Tells the scheduler that a `cron_job` row changed, so it syncs that row within a second
 * instead of at its next periodic pass. Call it after the transaction commits (before, the
 * scheduler could read the old row).
 *
 * Never rejects: the change is already committed, and a message lost to a Redis outage is
 * caught up by the scheduler's periodic pass (`SCHEDULER_RECONCILE_MS`). Resolves to whether
 * the message went out, so the caller can log a `false`.
 *
 * @example
 * await db.transaction().execute(async (trx) => { … update cron_job … });
 * if (!(await publishCronChanged(redis, redisKeys(prefix, queue), { cronJobId: row.id, op: 'update', jobId: row.job_id }))) {
 *   log.warn('scheduler not notified; its periodic pass will pick the change up');
 * }
 */
export async function publishCronChanged(redis: Redis, keys: Pick<RedisKeys, 'cronChangedChannel'>, change: CronChange): Promise<boolean> {
  const message: CronChange = { cronJobId: change.cronJobId, op: change.op };
  if (change.jobId !== undefined) message.jobId = change.jobId;
  try {
    await redis.publish(keys.cronChangedChannel, JSON.stringify(message));
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a message of the cron-changed channel; undefined for anything that is not one (a
 * foreign publisher must not crash or confuse the scheduler).
 *
 * @example
 * subscriber.on('message', (_channel, text) => { const change = parseCronChange(text); if (change) … });
 */
export function parseCronChange(message: string): CronChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { cronJobId, op, jobId } = value as Record<string, unknown>;
  if (!isField(cronJobId) || !cronChangeOps.includes(op as CronChangeOp)) return undefined;
  if (jobId !== undefined && !isField(jobId)) return undefined;
  return jobId === undefined ? { cronJobId, op: op as CronChangeOp } : { cronJobId, op: op as CronChangeOp, jobId };
}

const isField = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_FIELD;
