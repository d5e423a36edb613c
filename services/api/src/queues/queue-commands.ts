import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CANCELLED_REASON } from '@jobs/shared/jobs';

/** Failed ids read (and names looked up) per round trip: memory stays bounded by this, not by the queue. */
const PAGE = 500;
/** Jobs removed per `clean` call: one Lua script each, so Redis is never blocked for long. */
const CLEAN_BATCH = 1_000;

/**
 * Moves failed jobs of `queue` (on `redis`, its Redis) back to waiting, oldest failure first, each with its attempts
 * reset (an operator's retry is a fresh start, as if enqueued again). Only `handler`'s jobs when
 * given; at most `limit`. Cancelled jobs (failed with the cancel reason) stay cancelled.
 *
 * Pages through the failed set by id (names and reasons read in one pipeline per page), so a
 * queue with millions of failures is never loaded into memory. It walks only the failures that
 * existed when it started: a retried job that fails again lands at the newest end and is not
 * retried twice in one call.
 */
export async function retryFailedJobs(
  redis: Redis,
  queue: Queue,
  options: { handler?: string | undefined; limit?: number | undefined },
  pageSize = PAGE,
): Promise<number> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let toVisit = await queue.getFailedCount();
  let offset = 0; // index in the failed set (oldest first) of the next unvisited job
  let retried = 0;
  while (toVisit > 0 && retried < limit) {
    const ids = await queue.getRanges(['failed'], offset, offset + Math.min(pageSize, toVisit) - 1, true);
    if (ids.length === 0) break;
    toVisit -= ids.length;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hmget(queue.toKey(id), 'name', 'failedReason');
    const fields = (await pipeline.exec()) ?? [];
    let left = 0; // visited jobs that stay in the failed set: the next page starts after them
    for (const [i, id] of ids.entries()) {
      const [name, reason] = (fields[i]?.[1] as (string | null)[] | undefined) ?? [];
      const wanted = retried < limit && reason !== CANCELLED_REASON && (options.handler === undefined || name === options.handler);
      if (wanted && (await retryOne(queue, id))) retried++;
      else left++;
    }
    offset += left;
  }
  return retried;
}

/** Retries one failed job; false when it is gone or no longer failed (someone else got to it). */
async function retryOne(queue: Queue, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  if (!job) return false;
  try {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  } catch {
    return false; // moved on meanwhile (retried by BullBoard, removed): not ours to count
  }
}

/**
 * Removes `state` jobs of `queue` that finished at least `olderThanMs` ago, at most `limit`;
 * returns how many. Works in batches so each Redis script stays short.
 */
export async function cleanJobs(queue: Queue, options: { state: 'completed' | 'failed'; olderThanMs: number; limit?: number | undefined }): Promise<number> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let removed = 0;
  while (removed < limit) {
    const batch = Math.min(CLEAN_BATCH, limit - removed);
    const ids = await queue.clean(options.olderThanMs, batch, options.state);
    removed += ids.length;
    if (ids.length < batch) break;
  }
  return removed;
}
