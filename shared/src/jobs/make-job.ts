import type { ZodType } from 'zod';
import { QUEUE_NAME_PATTERN } from './queues.js';
import { checkLimits, JobLimitOptionError, limitsView, type ConcurrencyOption, type JobLimits, type RateLimitOption } from './limits/limit-options.js';
import type { HandlerMap, JobDefinition, JobRunner } from './types.js';

export interface MakeJobOptions<P> {
  /** Runtime schema of the payload; the API and the worker reject payloads that fail it. */
  schema?: ZodType<P>;
  /** Tries in all when the enqueuer does not say (default 3). */
  attempts?: number;
  /** Base of the exponential backoff when the enqueuer does not say (default 1000 ms). */
  backoffMs?: number;
  /** 0–1: share of each backoff delay that is randomised, so retries of many jobs spread out. */
  backoffJitter?: number;
  /**
   * Only the system itself enqueues this handler (like `sendWebhook`): `POST /api/admin/job`
   * answers 400 for it whatever the token's scope, and a cron row cannot name it. The library
   * (`enqueueJob`, `createJobClient`) still enqueues it. Default false.
   */
  internal?: boolean;
  /**
   * The queue its jobs go to (SPEC §12), matching `[a-z][a-z0-9-]{0,47}`. Default: the default
   * queue (`QUEUE_NAME`, "jobs"). Worker processes pick queues (`WORKER_QUEUES`), so a slow or
   * flooding handler on its own queue cannot take the slots of the others.
   */
  queue?: string;
  /**
   * At most `limit` jobs of this handler (or of each `key(payload)`, e.g. per tenant) run at once,
   * across every worker process. More wait, parked, without spending an attempt (SPEC §12).
   */
  concurrency?: ConcurrencyOption<P>;
  /**
   * At most `max` jobs of this handler (or of each `key(payload)`) start in any window of
   * `durationMs`, across every worker process. More wait, parked, without spending an attempt.
   */
  rateLimit?: RateLimitOption<P>;
}

/** A singleton is `concurrency: { limit: 1, key }` itself, so it takes no `concurrency` option. */
export interface SingletonJobOptions<P> extends Omit<MakeJobOptions<P>, 'concurrency'> {
  /** One instance per key instead of per handler, e.g. `(p) => p.tenantId`. */
  key?: (payload: P) => string;
  /**
   * Lock lifetime (default 30 s); renewed every third of it while the job runs. It matters when a
   * worker dies (the lock frees itself after it), and when renewals fail for most of it (Redis
   * unreachable): the run is then told through `ctx.signal` (reason `lockLost`) and goes back.
   */
  lockTtlMs?: number;
  /**
   * Kept for compatibility; no longer used: a job that finds the lock taken is parked and woken as
   * soon as the lock is released (or its holder's lease expires), instead of retrying on a timer.
   */
  retryDelayMs?: number;
}

const definition = <P>(pattern: JobDefinition<P>['pattern'], run: JobRunner<P>, options: MakeJobOptions<P>, keyOf?: (p: P) => string, limitRules = checkLimits<P>(options)): JobDefinition<P> => ({
  pattern,
  limitRules,
  limits: limitsView(limitRules as JobLimits<never> | undefined),
  run,
  schema: options.schema,
  defaults: { attempts: options.attempts, backoffMs: options.backoffMs, backoffJitter: options.backoffJitter },
  keyOf,
  internal: options.internal ?? false,
  queue: checkedQueue(options.queue),
});

/** The `queue` option, refused at definition time when it is not a valid queue name. */
function checkedQueue(queue: unknown): string | undefined {
  if (queue === undefined) return undefined;
  if (typeof queue !== 'string' || !QUEUE_NAME_PATTERN.test(queue)) {
    throw new TypeError(`queue must match ${String(QUEUE_NAME_PATTERN)} (lower-case letter, then up to 47 lower-case letters, digits or "-"); got ${JSON.stringify(queue)}`);
  }
  return queue;
}

/**
 * A basic job handler (seed).
 *
 * @example
 * export const myJob = makeJob<MyJobPayload>(async (ctx, payload) => {
 *   ctx.log.info({ userId: payload.userId }, 'working');
 * }, { schema: myJobPayloadSchema });
 */
export function makeJob<P>(run: JobRunner<P>, options: MakeJobOptions<P> = {}): JobDefinition<P> {
  return definition('basic', run, options);
}

/**
 * At most one run of this handler (or of this handler and `key`) at a time across every
 * worker process: `concurrency: { limit: 1, key }`. A job that finds the lock taken is parked,
 * without spending an attempt, and woken when the lock frees (seed, SPEC §12).
 *
 * @example
 * export const dailyCleanup = makeSingletonJob(async (ctx, payload) => { … });
 */
export function makeSingletonJob<P>(run: JobRunner<P>, options: SingletonJobOptions<P> = {}): JobDefinition<P> {
  if ((options as { concurrency?: unknown }).concurrency !== undefined) throw new JobLimitOptionError('concurrency', 'a singleton job is concurrency { limit: 1 } already: use makeJob with concurrency for another limit');
  if (options.key !== undefined && typeof options.key !== 'function') throw new JobLimitOptionError('key', `must be a function (payload) => string; got ${typeof options.key}`);
  // The `limit: 1` case of the concurrency limits, on the same mechanism (jobs/limits).
  const limitRules = checkLimits<P>({ concurrency: { limit: 1, key: options.key }, rateLimit: options.rateLimit, leaseTtlMs: options.lockTtlMs });
  return {
    ...definition('singleton', run, options, options.key ?? (() => ''), limitRules),
    singleton: { lockTtlMs: options.lockTtlMs ?? 30_000, retryDelayMs: options.retryDelayMs ?? 1_000 },
  };
}

/**
 * Newer job with the same key cancels older (seed): enqueueing with key K removes a waiting
 * job with K (the newest payload wins) and aborts a running one through `ctx.signal`, on
 * whichever worker process runs it; that run ends as superseded, not failed.
 *
 * @example
 * export const syncData = makeSupersedingJob(async (ctx, payload) => {
 *   if (ctx.signal.aborted) return;
 * }, (payload) => `${redisNamespace.job}:sync:${payload.resourceId}`);
 */
export function makeSupersedingJob<P>(run: JobRunner<P>, key: (payload: P) => string, options: MakeJobOptions<P> = {}): JobDefinition<P> {
  return definition('superseding', run, options, key);
}

/**
 * Whether `name` is a registered handler marked `internal: true` (SPEC §14): the HTTP API and
 * cron rows must not name it. `Object.hasOwn`, so `constructor` or `__proto__` are never one.
 *
 * @example
 * isInternalHandler(jobHandlers, 'sendWebhook'); // true
 * isInternalHandler(jobHandlers, 'echo');        // false
 */
export function isInternalHandler(handlers: HandlerMap, name: string): boolean {
  return Object.hasOwn(handlers, name) && handlers[name]?.internal === true;
}
