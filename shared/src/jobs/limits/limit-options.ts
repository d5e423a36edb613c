/**
 * The `concurrency` and `rateLimit` options of a handler (SPEC §12), checked when the handler is
 * defined so that a typo fails at start-up, naming the option, rather than when a job runs.
 */

/** At most `limit` runs at once, across every worker process, per handler or per `key(payload)`. */
export interface ConcurrencyOption<P> {
  limit: number;
  key?: (payload: P) => string;
}

/** At most `max` starts in any window of `durationMs`, across every worker process, per handler or key. */
export interface RateLimitOption<P> {
  max: number;
  durationMs: number;
  key?: (payload: P) => string;
}

/** What a definition keeps of its limits (checked, with the lease settings of its running jobs). */
export interface JobLimits<P> {
  concurrency?: { limit: number; key: ((payload: P) => string) | undefined };
  rateLimit?: { max: number; durationMs: number; key: ((payload: P) => string) | undefined };
  /** Lease of a running job's slot: renewed every third of it, frees itself this long after its worker died. */
  leaseTtlMs: number;
}

/** `def.limits` as shown by the admin API and the console. */
export interface LimitsView {
  concurrency?: { limit: number; keyed: boolean };
  rateLimit?: { max: number; durationMs: number; keyed: boolean };
}

/** Default lease of a concurrency slot (the singleton's `lockTtlMs` default). */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** A limit option is invalid; `option` names it (e.g. `concurrency.limit`). */
export class JobLimitOptionError extends TypeError {
  override name = 'JobLimitOptionError';
  readonly code = 'invalid_limit_option';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`invalid handler option ${option}: ${detail}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveInt(option: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new JobLimitOptionError(option, `must be an integer from 1 to ${max}; got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function keyFn<P>(option: string, value: unknown): ((payload: P) => string) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new JobLimitOptionError(option, `must be a function (payload) => string; got ${typeof value}`);
  return value as (payload: P) => string;
}

/**
 * Checks the limit options of a handler and returns what its definition keeps, or undefined when
 * it has none. Throws {@link JobLimitOptionError} naming the first bad option.
 *
 * @example
 * checkLimits({ concurrency: { limit: 2, key: (p) => p.tenantId } }); // { concurrency: { limit: 2, key: [Function] }, leaseTtlMs: 30000 }
 * checkLimits({ concurrency: { limit: 0 } }); // throws: invalid handler option concurrency.limit: …
 */
export function checkLimits<P>(options: { concurrency?: unknown; rateLimit?: unknown; leaseTtlMs?: unknown }): JobLimits<P> | undefined {
  const { concurrency, rateLimit } = options;
  if (concurrency === undefined && rateLimit === undefined) return undefined;
  const limits: JobLimits<P> = { leaseTtlMs: options.leaseTtlMs === undefined ? DEFAULT_LEASE_TTL_MS : positiveInt('lockTtlMs', options.leaseTtlMs, 3_600_000) };
  if (limits.leaseTtlMs < 300) throw new JobLimitOptionError('lockTtlMs', `must be at least 300 ms; got ${limits.leaseTtlMs}`);
  if (concurrency !== undefined) {
    if (!isObject(concurrency)) throw new JobLimitOptionError('concurrency', 'must be an object { limit, key? }');
    limits.concurrency = { limit: positiveInt('concurrency.limit', concurrency.limit, 100_000), key: keyFn<P>('concurrency.key', concurrency.key) };
  }
  if (rateLimit !== undefined) {
    if (!isObject(rateLimit)) throw new JobLimitOptionError('rateLimit', 'must be an object { max, durationMs, key? }');
    limits.rateLimit = {
      max: positiveInt('rateLimit.max', rateLimit.max, 100_000),
      durationMs: positiveInt('rateLimit.durationMs', rateLimit.durationMs, 7 * 24 * 3_600_000),
      key: keyFn<P>('rateLimit.key', rateLimit.key),
    };
  }
  return limits;
}

/** The display form of a handler's limits (`def.limits`): no functions, only whether a key splits them. */
export function limitsView(limits: JobLimits<never> | undefined): LimitsView | undefined {
  if (!limits) return undefined;
  const view: LimitsView = {};
  if (limits.concurrency) view.concurrency = { limit: limits.concurrency.limit, keyed: limits.concurrency.key !== undefined };
  if (limits.rateLimit) view.rateLimit = { max: limits.rateLimit.max, durationMs: limits.rateLimit.durationMs, keyed: limits.rateLimit.key !== undefined };
  return view;
}
