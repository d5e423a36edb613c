/** The handler name is not in the registry. `known` lists the names that are. */
export class UnknownHandlerError extends Error {
  override name = 'UnknownHandlerError';
  readonly code = 'unknown_handler';
  constructor(
    readonly handler: string,
    readonly known: readonly string[],
  ) {
    super(`unknown handler "${handler}"; known handlers: ${known.join(', ') || '(none)'}`);
  }
}

export interface PayloadIssue {
  /** Dotted path inside the payload, e.g. `payload.user.id`. */
  path: string;
  message: string;
}

/** A payload failed its handler's schema. `issues` name each wrong field. */
export class JobPayloadError extends Error {
  override name = 'JobPayloadError';
  readonly code = 'invalid_payload';
  constructor(
    readonly handler: string,
    readonly issues: readonly PayloadIssue[],
  ) {
    super(`invalid payload for "${handler}": ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** An enqueue option is out of range; `field` names it (e.g. `options.delay`). */
export class JobOptionsError extends Error {
  override name = 'JobOptionsError';
  readonly code = 'invalid_options';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`invalid job option ${field}: ${detail}`);
  }
}

/** Redis cannot be reached right now; the caller should answer 503 and try again later. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
  readonly code = 'queue_unavailable';
  constructor(detail: string) {
    super(`the job queue (Redis) is unavailable: ${detail}`);
  }
}

/**
 * Thrown by a handler when something it needs is down (its database, say) rather than the job
 * being wrong: the worker puts the job back with a capped backoff **without spending an
 * attempt**, so an outage longer than the retry budget loses nothing. After
 * `DEPENDENCY_WAIT_MAX_MS` it counts as an ordinary failure again.
 *
 * @example
 * catch (err) { if (isDatabaseUnavailable(err)) throw new DependencyUnavailableError('database', err); throw err; }
 */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
  readonly code = 'dependency_unavailable';
  constructor(
    readonly dependency: string,
    cause?: unknown,
  ) {
    super(`${dependency} unavailable${cause instanceof Error && cause.message ? `: ${cause.message}` : ''}`, { cause });
  }
}

/** How long a job may keep waiting for a dependency before its failures count again (24 h). */
export const DEPENDENCY_WAIT_MAX_MS = 24 * 3600_000;

/**
 * Thrown by a handler whose upstream answered "slow down" (HTTP 429, a quota): the job goes back
 * to the queue **without spending an attempt**, and its handler (or its limit key, when the
 * handler has a keyed `rateLimit` or `concurrency`) pauses for `retryAfterMs`: other jobs of it
 * are held back, not run, until then. A handler without `concurrency` or `rateLimit` has no gate
 * to hold its other jobs, so only this job waits (SPEC §12; README "Limits").
 *
 * @example
 * if (res.status === 429) throw new RateLimitedError(Number(res.headers.get('retry-after') ?? 1) * 1000);
 */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  readonly code = 'rate_limited';
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message?: string) {
    const ms = Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? Math.min(Math.round(retryAfterMs), DEPENDENCY_WAIT_MAX_MS) : 1_000;
    super(message ?? `rate limited: retry after ${ms} ms`);
    this.retryAfterMs = ms;
  }
}
