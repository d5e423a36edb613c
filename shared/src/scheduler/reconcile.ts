import type { JobSchedulerJson, JobSchedulerTemplateOptions, Queue } from 'bullmq';
import type { HandlerMap } from '../jobs/types.js';
import { isBuiltinScheduleId } from './builtin-schedules.js';
import { RowSyncError, schedulerMatches, specFromRow, type CronRow, type RowFailureReason, type SchedulerSpec } from './scheduler-spec.js';

/** A row that was skipped or whose write failed; its scheduler in Redis is left as it was. */
export interface RowFailure {
  cronJobId: string;
  jobId: string;
  reason: RowFailureReason;
  message: string;
}

/** What a pass has to do to make Redis match the rows. */
export interface ReconcilePlan {
  upserts: SchedulerSpec[];
  /** Scheduler ids with no enabled row. */
  removals: string[];
  /** Ids of schedulers already as their row wants them. */
  unchanged: string[];
  failures: RowFailure[];
}

/** The outcome of a pass (SPEC §5), counted in rows/schedulers. */
export interface PassResult {
  upserted: number;
  removed: number;
  unchanged: number;
  failed: number;
}

/**
 * Compares enabled rows with the schedulers found in Redis and says what to write. Pure: both
 * sides must cover the same ids (all of them for a full pass; a few for a change).
 * - enabled valid row, no scheduler or a different one → upsert;
 * - equal → unchanged (no write, so the next run is not shifted);
 * - scheduler without an enabled row → remove (built-in schedules, `builtin:…`, are not rows:
 *   they are left to `planBuiltins`);
 * - row naming an internal handler → failure, and its scheduler removed;
 * - row that cannot be synced (unknown handler, bad pattern/payload/options) → failure, and
 *   its existing scheduler, if any, is kept: a deploy that briefly lacks a handler must not
 *   wipe schedules.
 *
 * @example
 * const plan = planReconcile(rows, await queue.getJobSchedulers(), jobHandlers);
 */
export function planReconcile(rows: readonly CronRow[], existing: readonly JobSchedulerJson[], handlers: HandlerMap): ReconcilePlan {
  const inRedis = new Map(existing.map((s) => [s.key, s]));
  const plan: ReconcilePlan = { upserts: [], removals: [], unchanged: [], failures: [] };
  const claimed = new Set<string>();
  for (const row of rows) {
    if (isBuiltinScheduleId(row.job_id)) {
      // Written in SQL (the API refuses ':' in a jobId): never let a row take over a built-in schedule.
      plan.failures.push({ cronJobId: row.id, jobId: row.job_id, reason: 'reserved_job_id', message: `job_id "${row.job_id}" is reserved for built-in schedules` });
      continue;
    }
    let spec: SchedulerSpec;
    try {
      spec = specFromRow(row, handlers);
    } catch (err) {
      const { reason, message } = err as RowSyncError;
      plan.failures.push({ cronJobId: row.id, jobId: row.job_id, reason, message });
      // An internal handler never becomes runnable by a row: unlike a handler missing during a
      // deploy, its scheduler (from before the handler was internal) goes.
      if (reason !== 'internal_handler') claimed.add(row.job_id);
      continue;
    }
    claimed.add(row.job_id);
    const current = inRedis.get(spec.id);
    if (current && schedulerMatches(current, spec)) plan.unchanged.push(spec.id);
    else plan.upserts.push(spec);
  }
  for (const s of existing) if (!claimed.has(s.key) && !isBuiltinScheduleId(s.key)) plan.removals.push(s.key);
  return plan;
}

export interface ApplyOptions {
  /** Writes in flight at once (default 64): enough to pipeline, bounded for memory and Redis. */
  concurrency?: number;
  /** Asked before every write; false (leadership lost) stops the pass: no write starts after that. */
  canWrite?: () => boolean;
}

export interface ApplyOutcome {
  /** Specs written. */
  upserted: SchedulerSpec[];
  /** Scheduler ids removed. */
  removed: string[];
  /** Writes that failed, as row failures. */
  failures: RowFailure[];
  /** True when `canWrite` stopped the pass before every write was made. */
  interrupted: boolean;
}

/**
 * Makes the writes of `plan` on `queue`, `concurrency` at a time; one failed write is recorded
 * and the others go on.
 *
 * @example
 * const outcome = await applyPlan(queue, plan, { canWrite: () => lock.isLeader });
 */
export async function applyPlan(queue: Queue, plan: ReconcilePlan, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const canWrite = options.canWrite ?? (() => true);
  const outcome: ApplyOutcome = { upserted: [], removed: [], failures: [], interrupted: false };
  const writes: Array<() => Promise<void>> = [
    ...plan.upserts.map((spec) => async () => {
      try {
        await queue.upsertJobScheduler(
          spec.id,
          { pattern: spec.pattern, tz: spec.tz },
          { name: spec.name, data: spec.data, opts: spec.opts as JobSchedulerTemplateOptions },
        );
        outcome.upserted.push(spec);
      } catch (err) {
        outcome.failures.push({ cronJobId: spec.cronJobId, jobId: spec.id, reason: 'write_failed', message: errorMessage(err) });
      }
    }),
    ...plan.removals.map((id) => async () => {
      try {
        await queue.removeJobScheduler(id);
        outcome.removed.push(id);
      } catch (err) {
        outcome.failures.push({ cronJobId: '', jobId: id, reason: 'write_failed', message: `removing: ${errorMessage(err)}` });
      }
    }),
  ];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < writes.length) {
      if (!canWrite()) {
        outcome.interrupted = true;
        return;
      }
      await writes[next++]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 64, writes.length) }, lane));
  return outcome;
}

/**
 * The pass result from a plan and what applying it did.
 *
 * @example
 * passResult(plan, await applyPlan(queue, plan)); // { upserted: 2, removed: 1, unchanged: 9997, failed: 0 }
 */
export function passResult(plan: ReconcilePlan, outcome: ApplyOutcome): PassResult {
  return {
    upserted: outcome.upserted.length,
    removed: outcome.removed.length,
    unchanged: plan.unchanged.length,
    failed: plan.failures.length + outcome.failures.length,
  };
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message || err.name : String(err));
