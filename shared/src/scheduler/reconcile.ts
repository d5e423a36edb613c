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

/** A job scheduler as read from Redis, with the queue it sits on. */
export type QueuedScheduler = JobSchedulerJson & { queue: string };

/**
 * A scheduler to write on `queue`, its handler's queue. `moveFrom`: queues that hold a scheduler
 * with this id too (its handler moved queues); it is removed there first, then written here, so
 * the two never both fire (a tick that falls in between is skipped, not doubled).
 */
export type QueuedSpec = SchedulerSpec & { queue: string; moveFrom?: string[] };

/** What a pass has to do to make Redis match the rows. */
export interface ReconcilePlan {
  upserts: QueuedSpec[];
  /** Schedulers with no enabled row, or copies left on a queue their handler left. */
  removals: Array<{ queue: string; id: string }>;
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
 * Compares enabled rows with the schedulers found in Redis (on every queue) and says what to
 * write. Pure: both sides must cover the same ids (all of them for a full pass; a few for a change).
 * - enabled valid row, no scheduler on its handler's queue (`queueOf`) or a different one → upsert
 *   there, removing copies on other queues first (the handler moved: SPEC §12);
 * - equal, and on no other queue → unchanged (no write, so the next run is not shifted);
 * - scheduler without an enabled row → remove (built-in schedules, `builtin:…`, are not rows:
 *   they are left to `planBuiltins`);
 * - row naming an internal handler → failure, and its scheduler removed;
 * - row that cannot be synced (unknown handler, bad pattern/payload/options) → failure, and
 *   its existing schedulers, if any, are kept: a deploy that briefly lacks a handler must not
 *   wipe schedules.
 *
 * @example
 * const plan = planReconcile(rows, schedulersOfEveryQueue, jobHandlers, (handler) => client.queueOf(handler));
 */
export function planReconcile(rows: readonly CronRow[], existing: readonly QueuedScheduler[], handlers: HandlerMap, queueOf: (handler: string) => string): ReconcilePlan {
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
    planOne(plan, spec, queueOf(spec.name), existing);
  }
  for (const s of existing) if (!claimed.has(s.key) && !isBuiltinScheduleId(s.key)) plan.removals.push({ queue: s.queue, id: s.key });
  return plan;
}

/** Adds to `plan` what makes `spec` hold on `queue` (and on no other queue). */
export function planOne(plan: ReconcilePlan, spec: SchedulerSpec, queue: string, existing: readonly QueuedScheduler[]): void {
  const found = existing.filter((s) => s.key === spec.id);
  const here = found.find((s) => s.queue === queue);
  const elsewhere = found.filter((s) => s.queue !== queue).map((s) => s.queue);
  if (here && schedulerMatches(here, spec)) {
    plan.unchanged.push(spec.id);
    for (const q of elsewhere) plan.removals.push({ queue: q, id: spec.id });
  } else {
    plan.upserts.push(elsewhere.length ? { ...spec, queue, moveFrom: elsewhere } : { ...spec, queue });
  }
}

export interface ApplyOptions {
  /** Writes in flight at once (default 64): enough to pipeline, bounded for memory and Redis. */
  concurrency?: number;
  /** Asked before every write; false (leadership lost) stops the pass: no write starts after that. */
  canWrite?: () => boolean;
}

export interface ApplyOutcome {
  /** Specs written. */
  upserted: QueuedSpec[];
  /** Scheduler ids removed. */
  removed: string[];
  /** Writes that failed, as row failures. */
  failures: RowFailure[];
  /** True when `canWrite` stopped the pass before every write was made. */
  interrupted: boolean;
}

/**
 * Makes the writes of `plan` on `queues` (by name), `concurrency` at a time; one failed write
 * is recorded and the others go on.
 *
 * @example
 * const outcome = await applyPlan(client.queues, plan, { canWrite: () => lock.isLeader });
 */
export async function applyPlan(queues: ReadonlyMap<string, Queue>, plan: ReconcilePlan, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const queueNamed = (name: string): Queue => {
    const queue = queues.get(name);
    if (!queue) throw new Error(`no queue "${name}" in this scheduler`);
    return queue;
  };
  const canWrite = options.canWrite ?? (() => true);
  const outcome: ApplyOutcome = { upserted: [], removed: [], failures: [], interrupted: false };
  const writes: Array<() => Promise<void>> = [
    ...plan.upserts.map((spec) => async () => {
      try {
        // Off the old queue first: never two schedulers of one row firing at once.
        for (const from of spec.moveFrom ?? []) await queueNamed(from).removeJobScheduler(spec.id);
        await queueNamed(spec.queue).upsertJobScheduler(
          spec.id,
          { pattern: spec.pattern, tz: spec.tz },
          { name: spec.name, data: spec.data, opts: spec.opts as JobSchedulerTemplateOptions },
        );
        outcome.upserted.push(spec);
      } catch (err) {
        outcome.failures.push({ cronJobId: spec.cronJobId, jobId: spec.id, reason: 'write_failed', message: errorMessage(err) });
      }
    }),
    ...plan.removals.map(({ queue, id }) => async () => {
      try {
        await queueNamed(queue).removeJobScheduler(id);
        outcome.removed.push(id);
      } catch (err) {
        outcome.failures.push({ cronJobId: '', jobId: id, reason: 'write_failed', message: `removing from ${queue}: ${errorMessage(err)}` });
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
