import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import type { AbortMessage } from './abort-reason.js';

/** BullMQ's stalled check runs at most this often by default (createWorker's `stalledIntervalMs`). */
const MAX_STALLED_INTERVAL_MS = 30_000;
/** Time for a job back in the queue after a stall to be picked up again (a backlog ahead of it). */
const PICKUP_MARGIN_MS = 10 * 60_000;

/**
 * How long an abort flag must live for a worker with lock duration `lockDurationMs`. The flag is
 * read (1) by a worker's abort listener after a reconnect, for the jobs it runs — seconds later;
 * and (2) by a run of the job that starts again after the worker that ran it died (run-job.ts).
 * That worker stopped renewing the job lock no later than the abort was requested (had it been
 * alive and connected, it would have aborted the run itself), so the job stalls within the lock
 * duration, is moved back to the queue within one stalled interval, and is then picked up: the
 * flag covers lock duration + stalled interval + a pick-up margin.
 *
 * Defaults (lock 5 min, stalled interval 30 s, margin 10 min): 15.5 min.
 *
 * Not covered: a run that heard the abort but ignores its signal for longer than this, and whose
 * worker then dies: its restart does not see the cancel. Handlers should honour `ctx.signal`.
 */
export function abortFlagTtlMs(lockDurationMs: number, stalledIntervalMs = Math.min(lockDurationMs, MAX_STALLED_INTERVAL_MS)): number {
  return lockDurationMs + stalledIntervalMs + PICKUP_MARGIN_MS;
}

/** The flag TTL for workers with the default lock duration (5 min): 15.5 min. */
export const DEFAULT_ABORT_FLAG_TTL_MS = abortFlagTtlMs(300_000);

/**
 * Tells whichever worker process runs `jobId` to abort it: one pub/sub message, which every
 * worker hears at once, plus a flag key read by a worker that was disconnected when it was sent,
 * and by a later start of the job (its worker died). Call it only for a job that is running:
 * a job that has not started is removed instead. The flag expires after `flagTtlMs` (see
 * {@link abortFlagTtlMs}; pass a longer one if workers run with a longer lock duration), and the
 * worker deletes it as soon as the job has ended cancelled or superseded.
 */
export async function requestAbort(redis: Redis, keys: RedisKeys, message: AbortMessage, flagTtlMs = DEFAULT_ABORT_FLAG_TTL_MS): Promise<void> {
  await redis
    .multi()
    .set(keys.abortFlag(message.jobId), JSON.stringify(message), 'PX', flagTtlMs)
    .publish(keys.abortChannel, JSON.stringify(message))
    .exec();
}
