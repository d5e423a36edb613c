import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { AbortReason, CANCELLED_REASON, putsJobBack, type AbortMessage, type SupersededResult } from './abort/abort-reason.js';
import type { HeldLock } from './patterns/singleton-lock.js';
import { enterLimits, limitStatesOf, markPutBack, parkHeldJob, parkJob, pauseState } from './limits/limit-gate.js';
import { logToJob } from './job-log-mirror.js';
import { putBack, readRestartState, type PutBackReason } from './put-back.js';
import { newerAtStart, releaseLatest } from './patterns/supersede.js';
import { DEPENDENCY_WAIT_MAX_MS, DependencyUnavailableError, RateLimitedError } from './errors.js';
import type { AnyJobDefinition, JobContext } from './types.js';

export interface RunDeps {
  redis: Redis;
  keys: RedisKeys;
  /** The abort delivered to this job before or while it ran. */
  abortOf: (jobId: string) => AbortMessage | undefined;
  /** Fires the `ctx.signal` of the run of `jobId` in this process with `reason`. */
  abortRun: (jobId: string, reason: AbortReason) => void;
  /** Tells this process's limit sweeper that a limit state is due for a look in `inMs`. */
  limitDue?: (inMs: number) => void;
}

const superseded = (by: string | undefined): SupersededResult => ({ $outcome: 'superseded', supersededBy: by });

/**
 * Runs one job through its pattern (singleton lock, supersede check) and turns an abort into
 * the outcome its reason calls for: superseded → completed as superseded; cancelled → failed,
 * no retry; shutdown or lockLost → back to the queue without spending an attempt.
 */
export function runJob(deps: RunDeps, def: AnyJobDefinition, job: Job, token: string | undefined, ctx: JobContext, payload: unknown): Promise<unknown> {
  // BullMQ counts every move to active in `attemptsStarted`. Only a job started before can have
  // been cancelled while it ran on a worker that died since (or missed the message), so only then
  // is its abort flag read: one round trip for restarts, none for a first start. A first start
  // needs no read: cancelJob removes a job that has not started, and a cancel that races the pick
  // (the job became active just before) reaches this process's abort listener, which remembers
  // it (jobStarted/abortOf) even if it arrives before the run registered.
  if (job.attemptsStarted > 1) return restart(deps, def, job, token, ctx, payload);
  return runStarted(deps, def, job, token, ctx, payload);
}

/**
 * A job that started before: says in its log why this run is a repeat of an unfinished attempt,
 * and ends at once, without calling the handler, if it was cancelled or superseded meanwhile.
 */
async function restart(deps: RunDeps, def: AnyJobDefinition, job: Job, token: string | undefined, ctx: JobContext, payload: unknown): Promise<unknown> {
  const { putBackBy, abort } = await readRestartState(deps.redis, deps.keys, job);
  // More starts than finished attempts: an earlier run of this same attempt did not finish.
  if (job.attemptsStarted > job.attemptsMade + 1) logRepeat(ctx, job, putBackBy);
  const early = deps.abortOf(job.id ?? '') ?? abort;
  if (early) return settleAbort(job, token, ctx, early.reason, early.by);
  return runStarted(deps, def, job, token, ctx, payload);
}

const REPEAT_CAUSE: Partial<Record<PutBackReason, string>> = {
  shutdown: 'the previous run of this attempt was interrupted by a worker shutdown',
  lockLost: 'the previous run of this attempt lost its singleton lock (its concurrency slot)',
};

/** One line in the job log (whatever the process log level) saying why the handler runs again. */
function logRepeat(ctx: JobContext, job: Job, putBackBy: PutBackReason | undefined): void {
  // Waiting for a limit, a singleton lock or a dependency is not a repeat worth a line (already logged).
  if (putBackBy === 'lockTaken' || putBackBy === 'dependency' || putBackBy === 'limited' || putBackBy === 'rateLimited') return;
  const cause = (putBackBy && REPEAT_CAUSE[putBackBy]) ?? 'the previous run of this attempt did not finish: its worker stopped renewing the job lock (crashed, killed or blocked) and the job stalled';
  logToJob(ctx.log, job, 'warn', { previousRun: putBackBy ?? 'stalled' }, `run repeated: ${cause}`);
}

function runStarted(deps: RunDeps, def: AnyJobDefinition, job: Job, token: string | undefined, ctx: JobContext, payload: unknown): Promise<unknown> {
  if (def.pattern !== 'basic' || def.limitRules || deps.abortOf(job.id ?? '')) return runWithPattern(deps, def, job, token, ctx, payload);
  // A basic job has no lock and no key: its run is the handler and what follows it, without
  // the extra async frames of the pattern path (a measurable share of a no-op job's cost).
  return callHandler(def, ctx, payload).then(
    (result) => (ctx.signal.aborted ? afterAbort(deps, job, token, ctx) : result),
    (error: unknown) =>
      ctx.signal.aborted
        ? afterAbort(deps, job, token, ctx)
        : error instanceof RateLimitedError
          ? putBackRateLimited(deps, job, token, ctx, undefined, error)
          : (putBackIfDependencyDown(job, token, ctx, error) ?? Promise.reject(error)),
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
  // BullMQ's own id: aborts, pointers and leases are per queue, keyed by it (ctx.jobId may be `<queue>~<id>`).
  const jobId = job.id ?? '';
  const { handlerName } = ctx;
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
    const states = def.limitRules ? limitStatesOf(deps.keys, handlerName, def.limitRules, payload) : undefined;
    if (def.limitRules && states) {
      // Concurrency slot (a lease, the singleton's lock being the limit-1 case) and rate window,
      // across processes (jobs/limits/limit-gate.ts). A lost lease (gone, or not renewed within
      // its TTL) fires ctx.signal at once, so the handler stops before another run can take the
      // slot: BullMQ's own cancelJob, the same path as cancel and supersede, keeps one signal per
      // run and puts the reason on it.
      const gate = await enterLimits(deps.redis, deps.keys, job, states, def.limitRules.leaseTtlMs, (why) => {
        logToJob(ctx.log, job, 'warn', { why }, 'singleton lock lost (concurrency slot lease) while the job ran: aborting the run (reason lockLost)');
        deps.abortRun(jobId, AbortReason.lockLost);
      });
      if (gate.held) {
        finished = false;
        ctx.log.debug({ dueInMs: gate.dueInMs }, 'held back by a limit: job parked, no attempt spent');
        return await parkHeldJob(job, token, gate.dueInMs, deps.limitDue ?? (() => undefined));
      }
      lock = gate.slot;
    }

    let result: unknown;
    let error: unknown;
    try {
      result = await def.run(ctx, payload);
    } catch (err) {
      error = err;
    }
    if (lock) {
      // The handler is done: free the slot (and wake a parked job) now. Without waiting for the
      // answer when the run ends normally: the job settles meanwhile, a round trip less per job.
      // Awaited when the run was aborted (shutdown, lockLost): the job goes back and its worker
      // may be closing, which must not leave the slot held until its lease expires.
      const held = lock;
      lock = undefined;
      if (ctx.signal.aborted) await held.release();
      else void held.release();
    }
    if (ctx.signal.aborted) {
      if (putsJobBack(String(ctx.signal.reason) as AbortReason)) finished = false;
      return await afterAbort(deps, job, token, ctx);
    }
    if (error instanceof RateLimitedError) {
      finished = false;
      return await putBackRateLimited(deps, job, token, ctx, states, error);
    }
    if (error !== undefined) {
      const waiting = putBackIfDependencyDown(job, token, ctx, error);
      if (waiting) {
        finished = false;
        return await waiting;
      }
      finished = error instanceof UnrecoverableError || ctx.attempt >= ctx.maxAttempts;
      throw error;
    }
    return result;
  } finally {
    if (lock) await lock.release();
    if (latestKey && finished) await releaseLatest(deps.redis, latestKey, jobId).catch(() => undefined);
  }
}

/** The outcome of a run whose `ctx.signal` fired while it ran. */
function afterAbort(deps: RunDeps, job: Job, token: string | undefined, ctx: JobContext): Promise<unknown> {
  return settleAbort(job, token, ctx, String(ctx.signal.reason) as AbortReason, deps.abortOf(job.id ?? '')?.by);
}

async function settleAbort(job: Job, token: string | undefined, ctx: JobContext, reason: AbortReason, by: string | undefined): Promise<unknown> {
  if (reason === AbortReason.superseded) {
    ctx.log.info({ supersededBy: by }, 'job superseded');
    return superseded(by);
  }
  if (putsJobBack(reason)) {
    const cause = reason === AbortReason.shutdown ? 'worker shutdown' : 'singleton lock lost';
    logToJob(ctx.log, job, 'warn', { reason }, `run interrupted (${cause}): back in the queue, no attempt spent; it will run again`);
    return putBack(ctx.redis, job, token, 0, reason as PutBackReason);
  }
  ctx.log.warn('job cancelled');
  throw new UnrecoverableError(CANCELLED_REASON);
}

/**
 * A handler that threw {@link RateLimitedError}: its limit state (the first: concurrency key, else
 * rate key) pauses for `retryAfterMs`, and the job is parked on it, so it and every other job of
 * that handler or key wait until then without spending an attempt. A handler without limits has no
 * gate to hold its other jobs: only this job goes back, delayed by `retryAfterMs`.
 */
async function putBackRateLimited(deps: RunDeps, job: Job, token: string | undefined, ctx: JobContext, states: ReturnType<typeof limitStatesOf> | undefined, error: RateLimitedError): Promise<never> {
  logToJob(ctx.log, job, 'warn', { retryAfterMs: error.retryAfterMs }, 'rate limited by its upstream: job put back, no attempt spent; handler (or key) paused');
  const state = states?.[0];
  if (!state) return putBack(deps.redis, job, token, error.retryAfterMs, 'rateLimited');
  await pauseState(deps.redis, state, error.retryAfterMs);
  await markPutBack(deps.redis, job, 'rateLimited');
  return parkJob(deps.redis, deps.keys, job, token, state, deps.limitDue ?? (() => undefined));
}

/**
 * A handler that threw {@link DependencyUnavailableError} (while the job is younger than the
 * wait cap) goes back to the queue, delayed, without spending an attempt: the returned promise
 * rejects with DelayedError once it is. Any other error: undefined.
 */
function putBackIfDependencyDown(job: Job, token: string | undefined, ctx: JobContext, error: unknown): Promise<never> | undefined {
  if (!(error instanceof DependencyUnavailableError) || Date.now() - job.timestamp >= DEPENDENCY_WAIT_MAX_MS) return undefined;
  // Capped exponential wait (1 s … 30 s, ±20%) counted by the runs already put back.
  const putBacks = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
  const wait = Math.round(Math.min(1_000 * 2 ** Math.min(putBacks, 5), 30_000) * (0.8 + Math.random() * 0.4));
  ctx.log.warn({ dependency: error.dependency, retryInMs: wait, err: { message: error.message } }, 'dependency unavailable: job put back, no attempt spent');
  return putBack(ctx.redis, job, token, wait, 'dependency');
}
