import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { AbortReason } from './abort/abort-reason.js';
import { requestAbort } from './abort/request-abort.js';
import { releaseLatest } from './patterns/supersede.js';

/**
 * What a cancel did: `removed` (had not started), `aborting` (running: its `ctx.signal` fires
 * on whatever process runs it and it ends as cancelled), `finished` (too late: it already
 * completed or failed), `not_found`.
 */
export type CancelResult = 'removed' | 'aborting' | 'finished' | 'not_found';

export interface CancelDeps {
  queue: Queue;
  redis: Redis;
  keys: RedisKeys;
  /** The abort flag's lifetime for the workers' lock duration (request-abort.ts); default 15.5 min. */
  flagTtlMs?: number;
  /**
   * The "latest" pointer of a superseding job from its name and data (undefined for other
   * jobs). Given, a cancelled job that had not started stops being its key's latest, so it
   * cannot mark later runs of that key (a cron run, say) as superseded.
   */
  latestKeyOf?: (name: string, data: unknown) => string | undefined;
}

/** Cancels a job in any state; see {@link CancelResult}. */
export async function cancelJob(deps: CancelDeps, jobId: string): Promise<CancelResult> {
  const { queue, redis, keys } = deps;
  const state = await queue.getJobState(jobId);
  if (state === 'unknown') return 'not_found';
  if (state === 'completed' || state === 'failed') return 'finished';
  // Removal fails (0) when the job holds a lock, i.e. it started meanwhile: abort it then (a
  // run that ends releases its own pointer).
  if (state !== 'active') {
    const latestKey = deps.latestKeyOf ? await latestKeyOfStored(deps, jobId, deps.latestKeyOf) : undefined;
    if ((await queue.remove(jobId)) === 1) {
      if (latestKey) await releaseLatest(redis, latestKey, jobId);
      return 'removed';
    }
  }
  const now = await queue.getJobState(jobId);
  if (now === 'completed' || now === 'failed') return 'finished';
  if (now === 'unknown') return 'not_found';
  await requestAbort(redis, keys, { jobId, reason: AbortReason.cancelled }, deps.flagTtlMs);
  return 'aborting';
}

/** The pointer key of a stored job, read before it is removed (its data goes with it). */
async function latestKeyOfStored(deps: CancelDeps, jobId: string, latestKeyOf: NonNullable<CancelDeps['latestKeyOf']>): Promise<string | undefined> {
  const [name, data] = await deps.redis.hmget(deps.keys.jobHash(jobId), 'name', 'data');
  if (!name || !data) return undefined;
  try {
    return latestKeyOf(name, JSON.parse(data));
  } catch {
    return undefined;
  }
}
