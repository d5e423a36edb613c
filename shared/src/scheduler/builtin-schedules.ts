import type { JsonObject } from '../db/schema.js';

/**
 * A job the scheduler leader runs on a schedule without any `cron_job` row (SPEC §14 "Built-in
 * schedules"): kept as a BullMQ job scheduler whose id starts with `builtin:`. Such ids cannot be
 * a row's `jobId` (the API refuses `:` there, and the scheduler skips a row written in SQL with
 * one), they never appear in `GET /api/admin/cronJob`, and reconciling never removes them as
 * "a scheduler with no row".
 */
export interface BuiltinSchedule {
  /** The job scheduler id; always starts with {@link BUILTIN_SCHEDULE_PREFIX}. */
  readonly id: string;
  /** The handler it enqueues (usually an internal one). */
  readonly handler: string;
  /** Cron pattern, UTC. */
  readonly pattern: string;
  readonly payload: JsonObject;
  /** What it does, for the README and logs. */
  readonly description: string;
}

export const BUILTIN_SCHEDULE_PREFIX = 'builtin:';

/** Whether a job scheduler id belongs to a built-in schedule rather than to a `cron_job` row. */
export const isBuiltinScheduleId = (id: string): boolean => id.startsWith(BUILTIN_SCHEDULE_PREFIX);

/** The default pattern of the retention run: daily at 03:17 UTC (off the full hour, when many crons fire). */
export const WEBHOOK_EVENT_RETENTION_PATTERN = '17 3 * * *';

/**
 * The built-in schedules a scheduler runs when told nothing else. Listed in the README
 * ("Built-in schedules"); change one with its environment variable.
 */
export const builtinSchedules: readonly BuiltinSchedule[] = [
  {
    id: `${BUILTIN_SCHEDULE_PREFIX}webhookEventRetention`,
    handler: 'webhookEventRetention',
    pattern: WEBHOOK_EVENT_RETENTION_PATTERN,
    payload: {},
    description: 'deletes webhook attempt rows older than WEBHOOK_EVENT_RETENTION_DAYS and relayed outbox rows older than a day, in batches',
  },
];

export interface BuiltinScheduleSettings {
  /** `WEBHOOK_EVENT_RETENTION_SCHEDULE`: the retention's cron pattern, or `false` for none. */
  webhookEventRetention?: string | false;
}

/**
 * {@link builtinSchedules} with the deployment's settings applied: a changed pattern, or a
 * schedule left out (its scheduler is then removed from Redis on the next full pass).
 *
 * @example
 * builtinSchedulesWith({ webhookEventRetention: false }); // []
 * builtinSchedulesWith({ webhookEventRetention: '0 4 * * *' })[0].pattern; // '0 4 * * *'
 */
export function builtinSchedulesWith(settings: BuiltinScheduleSettings): BuiltinSchedule[] {
  const out: BuiltinSchedule[] = [];
  for (const schedule of builtinSchedules) {
    const setting = schedule.handler === 'webhookEventRetention' ? settings.webhookEventRetention : undefined;
    if (setting === false) continue;
    out.push(setting === undefined ? schedule : { ...schedule, pattern: setting });
  }
  return out;
}
