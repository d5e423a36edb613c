import type { JobSchedulerJson } from 'bullmq';
import { makeEnvelope } from '../jobs/envelope.js';
import { toBullJobOptions } from '../jobs/job-options.js';
import { parsePayload } from '../jobs/payload.js';
import { parseCronPattern } from '../cron/cron-pattern.js';
import type { HandlerMap } from '../jobs/types.js';
import { isBuiltinScheduleId, type BuiltinSchedule } from './builtin-schedules.js';
import type { ReconcilePlan } from './reconcile.js';
import { schedulerMatches, type SchedulerSpec } from './scheduler-spec.js';

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
 * upgrade) removed. `existing` may hold every scheduler; only `builtin:` ones are looked at.
 *
 * @example
 * const plan = planBuiltins(builtinSchedules, await queue.getJobSchedulers(), jobHandlers);
 */
export function planBuiltins(builtins: readonly BuiltinSchedule[], existing: readonly JobSchedulerJson[], handlers: HandlerMap): ReconcilePlan {
  const inRedis = new Map(existing.filter((s) => isBuiltinScheduleId(s.key)).map((s) => [s.key, s]));
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
    const current = inRedis.get(spec.id);
    if (current && schedulerMatches(current, spec)) plan.unchanged.push(spec.id);
    else plan.upserts.push(spec);
  }
  for (const id of inRedis.keys()) if (!wanted.has(id)) plan.removals.push(id);
  return plan;
}
