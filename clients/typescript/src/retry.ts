/**
 * Retries of a request: on a network error, 503 and 429, with exponential backoff and jitter, or
 * exactly the server's `Retry-After` (seconds or an HTTP date) when it sends one. It wraps the
 * `fetch` the generated client calls, so every operation gets it, and each attempt sends a clone of
 * the same `Request` (same body, same `Idempotency-Key`).
 */

export interface RetryPolicy {
  /** Further attempts after the first (default 3; 0 turns retries off). */
  retries: number;
  /** Backoff base: attempt n waits about `baseDelayMs * 2^n` (default 200). */
  baseDelayMs: number;
  /** Cap of one backoff wait (default 5 000). */
  maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the 503/429 is returned (default 60 000). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 60_000 };

export type FetchFn = (request: Request) => Promise<Response>;

/** Statuses that mean "not done, try again": the API's dependency is down, or it asks to slow down. */
const RETRYABLE_STATUS = new Set([429, 503]);
/** A request that did not answer may still have been carried out: only these are safe to resend blind. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Milliseconds to wait before retry number `attempt` (0-based): the `Retry-After` when given,
 * else exponential backoff with "equal jitter" (half fixed, half random) so clients that failed
 * together do not come back together.
 *
 * @example
 * retryDelayMs(0, DEFAULT_RETRY_POLICY, '2') // 2000
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, retryAfter: string | null, now = Date.now(), random = Math.random): number {
  const told = parseRetryAfter(retryAfter, now);
  if (told !== undefined) return told;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `fetch` with retries. A network error is retried only when resending cannot do the work twice:
 * idempotent methods, and requests that carry an `Idempotency-Key` (every enqueue does). The
 * request's own signal cancels the waits too.
 *
 * @example
 * const send = retryingFetch(globalThis.fetch, { ...DEFAULT_RETRY_POLICY, retries: 5 });
 */
export function retryingFetch(fetchFn: FetchFn, policy: RetryPolicy): FetchFn {
  return async (request) => {
    const resendable = IDEMPOTENT_METHODS.has(request.method) || request.headers.has('idempotency-key');
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= policy.retries;
      // The original stays unread for the next attempt; the last one may consume it.
      const sent = last ? request : request.clone();
      let response: Response;
      try {
        response = await fetchFn(sent);
      } catch (err) {
        if (last || !resendable || request.signal.aborted) throw err;
        await sleep(retryDelayMs(attempt, policy, null), request.signal);
        continue;
      }
      if (last || !RETRYABLE_STATUS.has(response.status)) return response;
      const delay = retryDelayMs(attempt, policy, response.headers.get('retry-after'));
      if (delay > policy.maxRetryAfterMs) return response;
      // Free the connection of the answer we drop.
      await response.body?.cancel().catch(() => {});
      await sleep(delay, request.signal);
    }
  };
}
