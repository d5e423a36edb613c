import { makeEnvelope } from '../jobs/envelope.js';
import { toBullJobOptions } from '../jobs/job-options.js';
import { parsePayload } from '../jobs/payload.js';
import { parseCronPattern } from '../cron/cron-pattern.js';
import type { HandlerMap } from '../jobs/types.js';
import { isBuiltinScheduleId, type BuiltinSchedule } from './builtin-schedules.js';
import { planOne, type QueuedScheduler, type ReconcilePlan } from './reconcile.js';
import type { SchedulerSpec } from './scheduler-spec.js';

/**
 * The job scheduler of a built-in schedule: like a cron row's (SPEC §5: UTC, job name = handler,
 * data `{type: 'cron', payload}`), with no `cronJobId` and the handler's own attempts and backoff.
 * Throws when the pattern or payload is invalid (a bad `WEBHOOK_EVENT_RETENTION_SCHEDULE` is
 * refused at start-up, so only a library caller can get here).
 */
export function specFromBuiltin(schedule: BuiltinSchedule, handlers: HandlerMap): SchedulerSpec | undefined {
  const def = Object.hasOwn(handlers, schedule.handler) ? handlers[schedule.handler] : undefined;
  if (!def) return undefined; // a registry without the handler (a library caller's own map) has nothing to run
  parsePayload(schedule.handler, def.schema, schedule.payload);
  return {
    id: schedule.id,
    cronJobId: '',
    pattern: parseCronPattern(schedule.pattern).pattern,
    tz: 'UTC',
    name: schedule.handler,
    data: makeEnvelope(schedule.payload, 'cron'),
    opts: toBullJobOptions(schedule.handler, def, {}),
  };
}

/**
 * What a full pass writes for the built-in schedules: each wanted one upserted unless Redis
 * already holds it as is; any other `builtin:` scheduler (a schedule turned off, or renamed by an
 * upgrade) removed. `existing` may hold every scheduler of every queue; only `builtin:` ones are
 * looked at. Each goes on its handler's queue (`queueOf`), and moves with it.
 *
 * @example
 * const plan = planBuiltins(builtinSchedules, schedulersOfEveryQueue, jobHandlers, (h) => client.queueOf(h));
 */
export function planBuiltins(builtins: readonly BuiltinSchedule[], existing: readonly QueuedScheduler[], handlers: HandlerMap, queueOf: (handler: string) => string): ReconcilePlan {
  const inRedis = existing.filter((s) => isBuiltinScheduleId(s.key));
  const plan: ReconcilePlan = { upserts: [], removals: [], unchanged: [], failures: [] };
  const wanted = new Set<string>();
  for (const schedule of builtins) {
    let spec: SchedulerSpec | undefined;
    try {
      spec = specFromBuiltin(schedule, handlers);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      plan.failures.push({ cronJobId: '', jobId: schedule.id, reason: 'invalid_options', message: `built-in schedule: ${message}` });
      wanted.add(schedule.id); // keep what Redis has rather than drop the retention
      continue;
    }
    if (!spec) continue;
    wanted.add(spec.id);
    planOne(plan, spec, queueOf(spec.name), inRedis);
  }
  for (const s of inRedis) if (!wanted.has(s.key)) plan.removals.push({ queue: s.queue, id: s.key });
  return plan;
}
