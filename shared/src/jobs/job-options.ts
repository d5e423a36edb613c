import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { JobOptionsError } from './errors.js';
import type { AnyJobDefinition, EnqueueOptions } from './types.js';

/** Tries in all when neither the enqueuer nor the handler says. */
export const DEFAULT_ATTEMPTS = 3;
/** Base of the exponential backoff when neither the enqueuer nor the handler says. */
export const DEFAULT_BACKOFF_MS = 1_000;
/** BullMQ's highest allowed priority value (2^21). */
export const MAX_PRIORITY = 2_097_152;

/**
 * The user-facing enqueue options (seed + SPEC §3), shared by `enqueueJob` and the HTTP API so
 * both accept and reject exactly the same values.
 */
export const enqueueOptionsSchema = z
  .object({
    delay: z.number().int().min(0).max(365 * 24 * 3600_000).optional().describe('milliseconds before the job may run'),
    priority: z.number().int().min(1).max(MAX_PRIORITY).optional().describe('lower runs sooner'),
    attempts: z.number().int().min(1).max(1_000).optional().describe('tries in all, first run included'),
    backoffMs: z.number().int().min(0).max(24 * 3600_000).optional().describe('base of the exponential backoff'),
    dedupeKey: z.string().min(1).max(512).optional().describe('an equal unfinished job is not added twice'),
  })
  .strict();

/**
 * How long finished jobs stay visible (BullBoard, `GET /job/:id`) before BullMQ trims them. The
 * count is a memory bound; it is generous so that at ~1,000 jobs/s a caller polling for its
 * result still finds it for over a minute (with 10,000 it was gone after ~10 s).
 */
const retention = {
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
  // Handler log lines mirrored into the job (shown by BullBoard): the newest 100 are kept.
  keepLogs: 100,
} satisfies JobsOptions;

function checkOptions(options: EnqueueOptions): void {
  const { type: _type, cronJobId: _cronJobId, jobId, ...userOptions } = options;
  if (jobId !== undefined && (!/^[\w.-]{1,200}$/.test(jobId) || /^\d+$/.test(jobId))) {
    throw new JobOptionsError('options.jobId', 'must be 1–200 letters, digits, _ . - and not an integer');
  }
  const parsed = enqueueOptionsSchema.safeParse(userOptions);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? `options.${issue.path.join('.')}` : `options.${(issue as { keys?: string[] }).keys?.[0] ?? ''}`;
    throw new JobOptionsError(field, issue.message);
  }
}

/** Keys of {@link EnqueueOptions} that do not change the BullMQ options. */
const ENVELOPE_ONLY = new Set(['type', 'cronJobId']);

/** The options of an enqueue that sets none, per handler: computed once, shared, frozen. */
const defaultsOf = new WeakMap<AnyJobDefinition, Readonly<JobsOptions>>();

/**
 * BullMQ job options for one enqueue: the caller's options over the handler's defaults.
 * `dedupeKey` is scoped by handler name so two handlers never collide on a key.
 * Most enqueues set no option; they get the handler's defaults, built once (BullMQ copies
 * the options it is given, so sharing them is safe; they are frozen to keep it so).
 */
export function toBullJobOptions(handler: string, def: AnyJobDefinition, options: EnqueueOptions): JobsOptions {
  if (setsNoOption(options)) {
    let defaults = defaultsOf.get(def);
    if (!defaults) defaultsOf.set(def, (defaults = Object.freeze(buildOptions(handler, def, {}))));
    return defaults;
  }
  checkOptions(options);
  return buildOptions(handler, def, options);
}

function setsNoOption(options: EnqueueOptions): boolean {
  for (const key in options) if (!ENVELOPE_ONLY.has(key)) return false;
  return true;
}

function buildOptions(handler: string, def: AnyJobDefinition, options: EnqueueOptions): JobsOptions {
  const attempts = options.attempts ?? def.defaults.attempts ?? DEFAULT_ATTEMPTS;
  const backoffMs = options.backoffMs ?? def.defaults.backoffMs ?? DEFAULT_BACKOFF_MS;
  const opts: JobsOptions = {
    ...retention,
    attempts,
    backoff: { type: 'exponential', delay: backoffMs, ...(def.defaults.backoffJitter ? { jitter: def.defaults.backoffJitter } : {}) },
  };
  if (options.jobId !== undefined) opts.jobId = options.jobId;
  if (options.delay) opts.delay = options.delay;
  if (options.priority !== undefined) opts.priority = options.priority;
  if (options.dedupeKey !== undefined) opts.deduplication = { id: `${handler}:${options.dedupeKey}` };
  return opts;
}
