import { withTimeout } from '../process/with-timeout.js';
import { isRedisConnectionError } from '../redis/connection-errors.js';
import { QueueUnavailableError } from './errors.js';

/**
 * Runs a Redis call so that an outage fails as `QueueUnavailableError` (an HTTP 503) instead of a
 * generic error (500) or a hang: a lost connection maps to it, and with `timeoutMs` so does a Redis
 * that accepts but does not answer. Other errors (a bad command) pass through unchanged. Used by
 * the job client, the API's queue admin and its idempotency records alike.
 *
 * @example
 * const job = await redisCall(() => queue.getJob(id), 5_000);
 */
export async function redisCall<T>(op: () => Promise<T>, timeoutMs?: number): Promise<T> {
  try {
    return timeoutMs === undefined ? await op() : await withTimeout(op(), timeoutMs, () => new QueueUnavailableError(`no answer within ${timeoutMs} ms`));
  } catch (err) {
    throw isRedisConnectionError(err) ? new QueueUnavailableError(err instanceof Error ? err.message : String(err)) : err;
  }
}
