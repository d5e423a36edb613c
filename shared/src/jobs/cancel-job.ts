import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { AbortReason } from './abort/abort-reason.js';
import { requestAbort } from './abort/request-abort.js';

/**
 * What a cancel did: `removed` (had not started), `aborting` (running: its `ctx.signal` fires
 * on whatever process runs it and it ends as cancelled), `finished` (too late: it already
 * completed or failed), `not_found`.
 */
export type CancelResult = 'removed' | 'aborting' | 'finished' | 'not_found';

/** Cancels a job in any state; see {@link CancelResult}. */
export async function cancelJob(deps: { queue: Queue; redis: Redis; keys: RedisKeys }, jobId: string): Promise<CancelResult> {
  const { queue, redis, keys } = deps;
  const state = await queue.getJobState(jobId);
  if (state === 'unknown') return 'not_found';
  if (state === 'completed' || state === 'failed') return 'finished';
  // Removal fails (0) when the job holds a lock, i.e. it started meanwhile: abort it then.
  if (state !== 'active' && (await queue.remove(jobId)) === 1) return 'removed';
  const now = await queue.getJobState(jobId);
  if (now === 'completed' || now === 'failed') return 'finished';
  if (now === 'unknown') return 'not_found';
  await requestAbort(redis, keys, { jobId, reason: AbortReason.cancelled });
  return 'aborting';
}
