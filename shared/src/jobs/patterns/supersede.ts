import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import { AbortReason } from '../abort/abort-reason.js';
import { releaseLock } from '../../redis/token-lock.js';
import { requestAbort } from '../abort/request-abort.js';

/** States in which a job has not started and can simply be removed. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Makes `newJobId` the latest job of `latestKey` and deals with the one it replaces: told to
 * abort (on whatever process runs it) if it runs, and removed if it has not started. `SET … GET` hands
 * the key over atomically, so concurrent enqueues form a chain and each older job is handled by
 * exactly one successor: never two waiting with the same key.
 */
export async function supersedeOlder(deps: { queue: Queue; redis: Redis; keys: RedisKeys }, latestKey: string, newJobId: string): Promise<void> {
  const { queue, redis, keys } = deps;
  const previous = await redis.set(latestKey, newJobId, 'GET');
  if (!previous || previous === newJobId) return;
  // The abort goes out together with the state read, not after it: a running predecessor hears
  // it one round trip sooner, and an abort for a job that turns out to be waiting is harmless
  // (no process runs it; workers forget unclaimed aborts after a while).
  const [state] = await Promise.all([
    queue.getJobState(previous),
    requestAbort(redis, keys, { jobId: previous, reason: AbortReason.superseded, by: newJobId }),
  ]);
  // Not started: remove it. If removal fails (0), it started meanwhile and the abort covers it.
  if (NOT_STARTED.has(state)) await queue.remove(previous);
}

/** The id of the newest job enqueued under `latestKey`, or null. */
export function latestJobId(redis: Redis, latestKey: string): Promise<string | null> {
  return redis.get(latestKey);
}

/** Forgets `jobId` as the latest of its key once it has finished for good (unless a newer one took over). */
export async function releaseLatest(redis: Redis, latestKey: string, jobId: string): Promise<void> {
  // The same compare-and-delete as a lock release: the job id is the "token".
  await releaseLock(redis, latestKey, jobId);
}
