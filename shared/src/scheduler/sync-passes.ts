import type { Queue } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HandlerMap } from '../jobs/types.js';
import type { BuiltinSchedule } from './builtin-schedules.js';
import { planBuiltins } from './builtin-sync.js';
import { loadEnabledRows, loadEnabledRowsFor } from './cron-rows.js';
import { applyPlan, passResult, planReconcile, type PassResult, type QueuedScheduler, type RowFailure } from './reconcile.js';
import { cronJobIdOf, type SchedulerIndex } from './scheduler-index.js';
import type { CronRow } from './scheduler-spec.js';

export interface PassDeps {
  db: Kysely<Database>;
  /** Every queue of the registry by name: schedulers are read from all and written to their handler's. */
  queues: ReadonlyMap<string, Queue>;
  /** The queue a handler's jobs (and so its schedulers) go to. */
  queueOf: (handler: string) => string;
  handlers: HandlerMap;
  index: SchedulerIndex;
  /** Writes in flight at once. */
  concurrency: number;
  /** False once leadership is lost: the pass makes no further write. */
  canWrite: () => boolean;
  /** Schedules kept without a row (SPEC §14); a full pass writes them. */
  builtins: readonly BuiltinSchedule[];
}

export interface PassRun {
  result: PassResult;
  /** Rows skipped (invalid) or not written. */
  failures: RowFailure[];
  /** Stopped early because leadership was lost. */
  interrupted: boolean;
  /** Built-in schedules written or removed by a full pass (not counted in `result`, which is about rows). */
  builtins?: { upserted: string[]; removed: string[] };
}

/** Every scheduler of every queue, each with its queue. */
async function readAllSchedulers(queues: ReadonlyMap<string, Queue>): Promise<QueuedScheduler[]> {
  const lists = await Promise.all([...queues].map(async ([name, queue]) => (await queue.getJobSchedulers()).map((s) => ({ ...s, queue: name }))));
  return lists.flat();
}

/**
 * Every enabled row against every scheduler in Redis (start, periodic, after a reconnect).
 * One query and one read of all schedulers of every queue, then only the writes that differ.
 */
export async function runFullPass(deps: PassDeps): Promise<PassRun> {
  const [rows, existing] = await Promise.all([loadEnabledRows(deps.db), readAllSchedulers(deps.queues)]);
  deps.index.reset(existing);
  const run = await plannedPass(deps, rows, existing);
  if (run.interrupted) return run;
  // The built-in schedules ride on the full pass: at start, periodically, after a reconnect.
  const plan = planBuiltins(deps.builtins, existing, deps.handlers, deps.queueOf);
  const outcome = await applyPlan(deps.queues, plan, { concurrency: deps.concurrency, canWrite: deps.canWrite });
  return {
    ...run,
    failures: [...run.failures, ...plan.failures, ...outcome.failures],
    interrupted: outcome.interrupted,
    builtins: { upserted: outcome.upserted.map((spec) => spec.id), removed: outcome.removed },
  };
}

/**
 * Only what the given changes touch: the rows with these ids, the schedulers last seen for
 * them, and the scheduler ids named in the messages. `changes` maps `cron_job.id` → scheduler
 * ids the messages named (maybe none).
 */
export async function runChangePass(deps: PassDeps, changes: ReadonlyMap<string, ReadonlySet<string>>): Promise<PassRun> {
  const hinted = new Set<string>();
  for (const [cronJobId, jobIds] of changes) {
    for (const id of jobIds) hinted.add(id);
    for (const id of deps.index.schedulersOf(cronJobId)) hinted.add(id);
  }
  const rows = await loadEnabledRowsFor(deps.db, [...changes.keys()], [...hinted]);
  const ids = new Set([...hinted, ...rows.map((r) => r.job_id)]);
  const found = await Promise.all([...ids].flatMap((id) => [...deps.queues].map(async ([name, queue]) => {
    const s = await readScheduler(queue, id);
    return s ? { ...s, queue: name } : undefined;
  })));
  const existing = found.filter((s): s is QueuedScheduler => s !== undefined);
  for (const s of existing) deps.index.set(s.key, cronJobIdOf(s));
  return plannedPass(deps, rows, existing);
}

async function plannedPass(deps: PassDeps, rows: readonly CronRow[], existing: QueuedScheduler[]): Promise<PassRun> {
  const plan = planReconcile(rows, existing, deps.handlers, deps.queueOf);
  const outcome = await applyPlan(deps.queues, plan, { concurrency: deps.concurrency, canWrite: deps.canWrite });
  for (const spec of outcome.upserted) deps.index.set(spec.id, spec.cronJobId);
  for (const id of outcome.removed) deps.index.delete(id);
  return { result: passResult(plan, outcome), failures: [...plan.failures, ...outcome.failures], interrupted: outcome.interrupted };
}

/**
 * One scheduler, or undefined. BullMQ throws for an absent id shaped like a legacy
 * repeatable key (`a:b:c:d:e`); absent is what that means here.
 */
async function readScheduler(queue: Queue, id: string): Promise<Awaited<ReturnType<Queue['getJobScheduler']>> | undefined> {
  try {
    return (await queue.getJobScheduler(id)) ?? undefined;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('Legacy repeatable job')) return undefined;
    throw err;
  }
}
