import type { JobSchedulerJson, Queue } from 'bullmq';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HandlerMap } from '../jobs/types.js';
import type { BuiltinSchedule } from './builtin-schedules.js';
import { planBuiltins } from './builtin-sync.js';
import { loadEnabledRows, loadEnabledRowsFor } from './cron-rows.js';
import { applyPlan, passResult, planReconcile, type PassResult, type RowFailure } from './reconcile.js';
import { cronJobIdOf, type SchedulerIndex } from './scheduler-index.js';
import type { CronRow } from './scheduler-spec.js';

export interface PassDeps {
  db: Kysely<Database>;
  queue: Queue;
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

/**
 * Every enabled row against every scheduler in Redis (start, periodic, after a reconnect).
 * One query and one read of all schedulers, then only the writes that differ.
 */
export async function runFullPass(deps: PassDeps): Promise<PassRun> {
  const [rows, existing] = await Promise.all([loadEnabledRows(deps.db), deps.queue.getJobSchedulers()]);
  deps.index.reset(existing);
  const run = await plannedPass(deps, rows, existing);
  if (run.interrupted) return run;
  // The built-in schedules ride on the full pass: at start, periodically, after a reconnect.
  const plan = planBuiltins(deps.builtins, existing, deps.handlers);
  const outcome = await applyPlan(deps.queue, plan, { concurrency: deps.concurrency, canWrite: deps.canWrite });
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
  const found = await Promise.all([...ids].map((id) => readScheduler(deps.queue, id)));
  const existing = found.filter((s): s is JobSchedulerJson => s !== undefined);
  for (const s of existing) deps.index.set(s.key, cronJobIdOf(s));
  return plannedPass(deps, rows, existing);
}

async function plannedPass(deps: PassDeps, rows: readonly CronRow[], existing: JobSchedulerJson[]): Promise<PassRun> {
  const plan = planReconcile(rows, existing, deps.handlers);
  const outcome = await applyPlan(deps.queue, plan, { concurrency: deps.concurrency, canWrite: deps.canWrite });
  for (const spec of outcome.upserted) deps.index.set(spec.id, spec.cronJobId);
  for (const id of outcome.removed) deps.index.delete(id);
  return { result: passResult(plan, outcome), failures: [...plan.failures, ...outcome.failures], interrupted: outcome.interrupted };
}

/**
 * One scheduler, or undefined. BullMQ throws for an absent id shaped like a legacy
 * repeatable key (`a:b:c:d:e`); absent is what that means here.
 */
async function readScheduler(queue: Queue, id: string): Promise<JobSchedulerJson | undefined> {
  try {
    return (await queue.getJobScheduler(id)) ?? undefined;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('Legacy repeatable job')) return undefined;
    throw err;
  }
}
