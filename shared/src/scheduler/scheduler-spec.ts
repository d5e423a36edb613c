import type { JobSchedulerJson, JobsOptions } from 'bullmq';
import { CronPatternError, parseCronPattern } from '../cron/cron-pattern.js';
import type { CronJob } from '../db/schema.js';
import { makeEnvelope } from '../jobs/envelope.js';
import { JobOptionsError, JobPayloadError, UnknownHandlerError } from '../jobs/errors.js';
import { toBullJobOptions } from '../jobs/job-options.js';
import { parsePayload, resolveHandler } from '../jobs/payload.js';
import type { AnyJobDefinition, HandlerMap, JobEnvelope } from '../jobs/types.js';

/** The columns of a `cron_job` row the scheduler reads. */
export type CronRow = Pick<CronJob, 'id' | 'job_id' | 'pattern' | 'handler' | 'payload' | 'max_attempts' | 'backoff_ms'>;

/** What one enabled row must be in Redis: the arguments of `upsertJobScheduler`. */
export interface SchedulerSpec {
  /** The scheduler id: the row's `job_id`. */
  id: string;
  cronJobId: string;
  pattern: string;
  tz: 'UTC';
  /** The job name: the handler. */
  name: string;
  data: JobEnvelope;
  opts: JobsOptions;
}

/** Why a row could not be synced. */
export type RowFailureReason =
  | 'unknown_handler'
  /** The handler is `internal: true`: only the system enqueues it (SPEC §14); the API never stores such a row. */
  | 'internal_handler'
  /** The row's `job_id` is a built-in schedule's id (`builtin:…`), which only the scheduler writes. */
  | 'reserved_job_id'
  | 'invalid_pattern'
  | 'invalid_payload'
  | 'invalid_options'
  | 'write_failed';

/** A row the scheduler could not turn into (or write as) a job scheduler. */
export class RowSyncError extends Error {
  override name = 'RowSyncError';
  constructor(
    readonly reason: RowFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The job scheduler an enabled row stands for (SPEC §5): id `job_id`, the row's pattern in
 * UTC, job name = handler, data `{type: 'cron', payload, cronJobId}`, attempts and exponential
 * backoff from the row, the same retention as ad-hoc jobs. Throws {@link RowSyncError} when
 * the handler is not in `handlers` or is internal, the payload fails its schema, the pattern does not parse
 * or attempts/backoff are out of range.
 *
 * @example
 * const spec = specFromRow(row, jobHandlers);
 * await queue.upsertJobScheduler(spec.id, { pattern: spec.pattern, tz: spec.tz }, { name: spec.name, data: spec.data, opts: spec.opts });
 */
export function specFromRow(row: CronRow, handlers: HandlerMap): SchedulerSpec {
  try {
    const def = resolveHandler(handlers, row.handler);
    if (def.internal) throw new RowSyncError('internal_handler', `handler "${row.handler}" is internal: a cron row cannot run it (only the system enqueues it)`);
    parsePayload(row.handler, def.schema, row.payload);
    const pattern = checkedPattern(row.pattern);
    const opts = jobOptions(row.handler, def, row.max_attempts, row.backoff_ms);
    return { id: row.job_id, cronJobId: row.id, pattern, tz: 'UTC', name: row.handler, data: makeEnvelope(row.payload, 'cron', row.id), opts };
  } catch (err) {
    throw toRowError(err);
  }
}

// A full pass checks every row; thousands of rows share a few patterns and option sets, and
// parsing a cron pattern costs ~50 µs. Both caches are bounded and hold pure results.
const CACHE_MAX = 20_000;
const patterns = new Map<string, string | CronPatternError>();
const optionSets = new Map<string, JobsOptions>();

function checkedPattern(raw: string): string {
  let checked = patterns.get(raw);
  if (checked === undefined) {
    try {
      checked = parseCronPattern(raw).pattern;
    } catch (err) {
      if (!(err instanceof CronPatternError)) throw err;
      checked = err;
    }
    if (patterns.size >= CACHE_MAX) patterns.clear();
    patterns.set(raw, checked);
  }
  if (checked instanceof CronPatternError) throw checked;
  return checked;
}

function jobOptions(handler: string, def: AnyJobDefinition, attempts: number, backoffMs: number): JobsOptions {
  const key = `${attempts}|${backoffMs}|${handler}`;
  let opts = optionSets.get(key);
  if (opts === undefined) {
    opts = toBullJobOptions(handler, def, { attempts, backoffMs });
    if (optionSets.size >= CACHE_MAX) optionSets.clear();
    optionSets.set(key, opts);
  }
  return opts;
}

function toRowError(err: unknown): RowSyncError {
  if (err instanceof RowSyncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UnknownHandlerError) return new RowSyncError('unknown_handler', message);
  if (err instanceof JobPayloadError) return new RowSyncError('invalid_payload', message);
  if (err instanceof JobOptionsError) return new RowSyncError('invalid_options', message.replace('options.attempts', 'max_attempts').replace('options.backoffMs', 'backoff_ms'));
  if (err instanceof CronPatternError) return new RowSyncError('invalid_pattern', message);
  return new RowSyncError('invalid_options', message);
}

/**
 * Whether the scheduler in Redis already is what `spec` asks for, compared on everything
 * `upsertJobScheduler` writes (pattern, tz, name, data, opts; no `every`, dates or limit).
 * Objects are compared with sorted keys: BullMQ stores opts through msgpack, which reorders them.
 *
 * @example
 * const current = await queue.getJobScheduler(spec.id);
 * if (!current || !schedulerMatches(current, spec)) await upsert(spec);
 */
export function schedulerMatches(existing: JobSchedulerJson, spec: SchedulerSpec): boolean {
  return (
    existing.pattern === spec.pattern &&
    existing.tz === spec.tz &&
    existing.name === spec.name &&
    existing.every === undefined &&
    existing.limit === undefined &&
    existing.startDate === undefined &&
    existing.endDate === undefined &&
    canonical(existing.template?.data) === canonical(spec.data) &&
    canonical(existing.template?.opts ?? {}) === canonical(spec.opts)
  );
}

/**
 * JSON with object keys sorted at every level, so equal values give equal strings.
 *
 * @example
 * canonical({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  ) ?? 'undefined';
}
