import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { parseAbortMessage, type AbortMessage } from './abort/abort-reason.js';

/**
 * Why a run was put back to the queue without spending an attempt. The next start of the job
 * reads it, so its log can say why the run is repeated; no mark at all means the previous run
 * never got to put the job back: its worker stopped renewing the job lock and the job stalled.
 * - `shutdown`, `lockLost`: the run was interrupted (see AbortReason) and will run again;
 * - `lockTaken`: a singleton's lock was held by another run, the handler did not run;
 * - `dependency`: the handler threw DependencyUnavailableError (already logged at the time);
 * - `limited`: a concurrency or rate limit (or a pause) held the job back; it was parked unrun;
 * - `rateLimited`: the handler threw RateLimitedError (already logged at the time).
 */
export type PutBackReason = 'shutdown' | 'lockLost' | 'lockTaken' | 'dependency' | 'limited' | 'rateLimited';

/**
 * A field of BullMQ's own job hash (unknown to BullMQ, which ignores it): it lives and dies
 * with the job, so it needs no TTL and can never outlive it.
 */
export const PUT_BACK_FIELD = 'jobsPutBack';

// Only on an existing job: an HSET on a removed job would recreate a stray hash.
const MARK = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0`;
// Read and clear the mark in one step (each start consumes the mark of the run before it), and the abort flag.
const READ = `local mark = redis.call('HGET', KEYS[1], ARGV[1]) if mark then redis.call('HDEL', KEYS[1], ARGV[1]) end return {mark or '', redis.call('GET', KEYS[2]) or ''}`;

const jobKey = (job: Job) => `${job.queueQualifiedName}:${job.id ?? ''}`;

/**
 * Moves the active `job` back to the queue (delayed `delayMs`) without spending an attempt, and
 * notes why for its next start. Always rejects: with DelayedError once done, which tells BullMQ
 * that the job was moved on purpose.
 */
export async function putBack(redis: Redis, job: Job, token: string | undefined, delayMs: number, reason: PutBackReason): Promise<never> {
  // The mark first, so it is there before any worker can pick the job up again.
  await redis.eval(MARK, 1, jobKey(job), PUT_BACK_FIELD, reason);
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

export interface RestartState {
  /** Why the previous start put the job back; undefined if it did not (it stalled) or there was none. */
  putBackBy: PutBackReason | undefined;
  /** A cancel or supersede requested while an earlier run was active, if its flag is still there. */
  abort: AbortMessage | undefined;
}

/** What a job that starts again needs to know, in one round trip (see {@link putBack}). */
export async function readRestartState(redis: Redis, keys: RedisKeys, job: Job): Promise<RestartState> {
  const id = job.id ?? '';
  const [mark, flag] = (await redis.eval(READ, 2, jobKey(job), keys.abortFlag(id), PUT_BACK_FIELD)) as [string, string];
  const abort = flag ? parseAbortMessage(flag) : undefined;
  return { putBackBy: (mark || undefined) as PutBackReason | undefined, abort: abort?.jobId === id ? abort : undefined };
}
