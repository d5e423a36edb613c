import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { AbortReason, CANCELLED_REASON, type AbortMessage, type SupersededResult } from './abort/abort-reason.js';
import { acquireLock, type HeldLock } from './patterns/singleton-lock.js';
import { newerAtStart, releaseLatest } from './patterns/supersede.js';
import { DEPENDENCY_WAIT_MAX_MS, DependencyUnavailableError } from './errors.js';
import type { AnyJobDefinition, JobContext } from './types.js';

export interface RunDeps {
  redis: Redis;
  keys: RedisKeys;
  /** The abort delivered to this job before or while it ran. */
  abortOf: (jobId: string) => AbortMessage | undefined;
}

const superseded = (by: string | undefined): SupersededResult => ({ $outcome: 'superseded', supersededBy: by });

/**
 * Runs one job through its pattern (singleton lock, supersede check) and turns an abort into
 * the outcome its reason calls for: superseded → completed as superseded; cancelled → failed,
 * no retry; shutdown → back to the queue without spending an attempt.
 */
export function runJob(deps: RunDeps, def: AnyJobDefinition, job: Job, token: string | undefined, ctx: JobContext, payload: unknown): Promise<unknown> {
  if (def.pattern !== 'basic' || deps.abortOf(ctx.jobId)) return runWithPattern(deps, def, job, token, ctx, payload);
  // A basic job has no lock and no key: its run is the handler and what follows it, without
  // the extra async frames of the pattern path (a measurable share of a no-op job's cost).
  return callHandler(def, ctx, payload).then(
    (result) => (ctx.signal.aborted ? afterAbort(deps, job, token, ctx) : result),
    (error: unknown) => (ctx.signal.aborted ? afterAbort(deps, job, token, ctx) : putBackIfDependencyDown(job, token, ctx, error) ?? Promise.reject(error)),
  );
}

/** The handler's promise; a handler that throws before returning one is a rejection too. */
function callHandler(def: AnyJobDefinition, ctx: JobContext, payload: unknown): Promise<unknown> {
  try {
    return Promise.resolve(def.run(ctx, payload));
  } catch (err) {
    return Promise.reject(err);
  }
}

async function runWithPattern(deps: RunDeps, def: AnyJobDefinition, job: Job, token: string | undefined, ctx: JobContext, payload: unknown): Promise<unknown> {
  // `ctx.log` is built on first read (a pino child per job is costly): read it only to log.
  const { jobId, handlerName } = ctx;
  const key = def.keyOf?.(payload);
  const latestKey = def.pattern === 'superseding' && key !== undefined ? deps.keys.supersedeLatest(handlerName, key) : undefined;

  let lock: HeldLock | undefined;
  // Whether this job is done for good, so a superseding job's "latest" pointer can be dropped.
  let finished = true;
  try {
    const early = deps.abortOf(jobId);
    if (early) return await settleAbort(job, token, ctx, early.reason, early.by);
    if (latestKey) {
      // A newer job (by enqueue order stamp, not id) may have been enqueued between this one
      // being picked and now; a pointer to a job that is gone or finished does not count.
      const newer = await newerAtStart(deps.redis, deps.keys, latestKey, job);
      if (newer) return await settleAbort(job, token, ctx, AbortReason.superseded, newer.by);
    }
    if (def.pattern === 'singleton' && def.singleton) {
      lock = await acquireLock(deps.redis, deps.keys.singletonLock(handlerName, key ?? ''), def.singleton.lockTtlMs);
      if (!lock) {
        finished = false;
        const wait = Math.round(def.singleton.retryDelayMs * (0.8 + Math.random() * 0.4));
        ctx.log.debug({ retryInMs: wait }, 'singleton lock taken: job put back');
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
    }

    let result: unknown;
    let error: unknown;
    try {
      result = await def.run(ctx, payload);
    } catch (err) {
      error = err;
    }
    if (ctx.signal.aborted) {
      if (String(ctx.signal.reason) === AbortReason.shutdown) finished = false;
      return await afterAbort(deps, job, token, ctx);
    }
    if (error !== undefined) {
      const putBack = putBackIfDependencyDown(job, token, ctx, error);
      if (putBack) {
        finished = false;
        return await putBack;
      }
      finished = error instanceof UnrecoverableError || ctx.attempt >= ctx.maxAttempts;
      throw error;
    }
    return result;
  } finally {
    if (lock) {
      await lock.release();
      if (lock.lost) ctx.log.warn('singleton lock was lost while the job ran (renewal failed for longer than its TTL)');
    }
    if (latestKey && finished) await releaseLatest(deps.redis, latestKey, jobId).catch(() => undefined);
  }
}

/** The outcome of a run whose `ctx.signal` fired while it ran. */
function afterAbort(deps: RunDeps, job: Job, token: string | undefined, ctx: JobContext): Promise<unknown> {
  return settleAbort(job, token, ctx, String(ctx.signal.reason) as AbortReason, deps.abortOf(ctx.jobId)?.by);
}

async function settleAbort(job: Job, token: string | undefined, ctx: JobContext, reason: AbortReason, by: string | undefined): Promise<unknown> {
  if (reason === AbortReason.superseded) {
    ctx.log.info({ supersededBy: by }, 'job superseded');
    return superseded(by);
  }
  if (reason === AbortReason.shutdown) {
    ctx.log.warn('job interrupted by shutdown: back in the queue, no attempt spent');
    await job.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  }
  ctx.log.warn('job cancelled');
  throw new UnrecoverableError(CANCELLED_REASON);
}

/**
 * A handler that threw {@link DependencyUnavailableError} (while the job is younger than the
 * wait cap) goes back to the queue, delayed, without spending an attempt: the returned promise
 * rejects with DelayedError once it is. Any other error: undefined.
 */
function putBackIfDependencyDown(job: Job, token: string | undefined, ctx: JobContext, error: unknown): Promise<never> | undefined {
  if (!(error instanceof DependencyUnavailableError) || Date.now() - job.timestamp >= DEPENDENCY_WAIT_MAX_MS) return undefined;
  // Capped exponential wait (1 s … 30 s, ±20%) counted by the runs already put back.
  const putBack = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
  const wait = Math.round(Math.min(1_000 * 2 ** Math.min(putBack, 5), 30_000) * (0.8 + Math.random() * 0.4));
  ctx.log.warn({ dependency: error.dependency, retryInMs: wait, err: { message: error.message } }, 'dependency unavailable: job put back, no attempt spent');
  return job.moveToDelayed(Date.now() + wait, token).then(() => {
    throw new DelayedError();
  });
}
