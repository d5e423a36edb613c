import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import { newLockToken } from '../../redis/token-lock.js';
import { keepLease, type HeldLock, type LockLoss } from '../patterns/singleton-lock.js';
import { PUT_BACK_FIELD, type PutBackReason } from '../put-back.js';
import type { JobLimits } from './limit-options.js';
import { gateScript, parkScript, pauseScript, releaseScript, renewScript } from './limit-scripts.js';

/*
 * Why this mechanism (SPEC §12). BullMQ's own levers do not fit: its rate limiter and global
 * concurrency are per queue, not per handler or key, and a per-key virtual queue would change how
 * jobs are enqueued. So a job goes through a gate when it starts:
 * - a Lua script checks, on Redis' clock, each limit *state* of its handler and key: a semaphore
 *   of leases (concurrency; a lease is renewed while the job runs and frees itself if its worker
 *   dies) and a sliding-window log of start instants (rate: a start is let in only while fewer
 *   than `max` lie in the last `durationMs`, so no window of that length ever holds more);
 * - a job that passes takes its lease and its start in the same script, then runs;
 * - a job held back is *parked*: the gate pushes its id onto the state's parked list, then its
 *   worker moves it to BullMQ's delayed set far ahead (no attempt spent, not failed); nothing
 *   runs for it while it waits;
 * - whoever frees room wakes parked jobs in one script: the end of a run (release), and the
 *   per-process sweeper (limit-sweeper.ts) for room that frees by itself (a rate window sliding
 *   on, a dead holder's lease expiring, a pause ending), driven by the queue's due index, whose
 *   cost is one call per tick per process however many jobs wait. Woken jobs go back through
 *   BullMQ (their delayed score moved to the past) and through the gate again.
 * A parked job also carries a far safety delay (PARK_SAFETY_MS), so even a lost index entry
 * cannot strand it for ever. Fairness between keys: a parked job costs a handful of Redis calls
 * once, then none, so a flooding key's backlog is parked at thousands of jobs a second and other
 * keys' jobs behind it are reached quickly.
 */

/** How long a parked job waits at most before it comes back by itself (a lost wake-up's bound). */
export const PARK_SAFETY_MS = 3_600_000;

/** One limit state of a job: its keys and the limits it enforces. */
interface LimitState {
  /** Member of the due index: which handler, kind and key this is. */
  member: string;
  keys: { run: string; starts: string; parked: string; pause: string };
  limit: number;
  max: number;
  durationMs: number;
}

/** The states a job of `handler` with `payload` passes through (one or two: concurrency and rate keys may differ). */
export function limitStatesOf(keys: RedisKeys, handler: string, limits: JobLimits<unknown>, payload: unknown): LimitState[] {
  const { concurrency: c, rateLimit: r } = limits;
  const state = (kind: string, key: string, limit: number, max: number, durationMs: number): LimitState => {
    const base = keys.limitState(handler, `${kind}:${key}`);
    return { member: JSON.stringify([handler, kind, key]), keys: { run: `${base}:run`, starts: `${base}:starts`, parked: `${base}:parked`, pause: `${base}:pause` }, limit, max, durationMs };
  };
  if (c && r && c.key === r.key) return [state('cr', c.key ? String(c.key(payload)) : '', c.limit, r.max, r.durationMs)];
  const states: LimitState[] = [];
  if (c) states.push(state('c', c.key ? String(c.key(payload)) : '', c.limit, 0, 0));
  if (r) states.push(state('r', r.key ? String(r.key(payload)) : '', 0, r.max, r.durationMs));
  return states;
}

/** The state a member of the due index names, or undefined if this process does not know its handler. */
export function limitStateOfMember(keys: RedisKeys, member: string, limitsOf: (handler: string) => JobLimits<unknown> | undefined): LimitState | undefined {
  const [handler, kind, key] = JSON.parse(member) as [string, string, string];
  const limits = limitsOf(handler);
  if (!limits) return undefined;
  const base = keys.limitState(handler, `${kind}:${key}`);
  const c = kind.includes('c') ? limits.concurrency : undefined;
  const r = kind.includes('r') ? limits.rateLimit : undefined;
  return { member, keys: { run: `${base}:run`, starts: `${base}:starts`, parked: `${base}:parked`, pause: `${base}:pause` }, limit: c?.limit ?? 0, max: r?.max ?? 0, durationMs: r?.durationMs ?? 0 };
}

export type GateResult = { held: false; slot: HeldLock | undefined } | { held: true; state: LimitState; dueInMs: number };

/**
 * Lets a job through its limits or says which state holds it back. When let through, its
 * concurrency lease (if any) is kept until `slot.release()`; `onLost` fires if it is lost.
 */
export async function enterLimits(redis: Redis, keys: RedisKeys, job: Job, states: LimitState[], leaseTtlMs: number, onLost: (why: LockLoss) => void): Promise<GateResult> {
  const holder = `${newLockToken()}/${job.id ?? ''}`;
  const sentAt = performance.now();
  const gateKeys = [keys.jobHash(job.id ?? ''), keys.limitDue];
  const args: (string | number)[] = [holder, leaseTtlMs, PUT_BACK_FIELD, 'limited' satisfies PutBackReason, states.length, job.id ?? ''];
  for (const s of states) {
    gateKeys.push(s.keys.run, s.keys.starts, s.keys.parked, s.keys.pause);
    args.push(s.limit, s.max, s.durationMs, s.member);
  }
  const [heldBy, dueInMs] = (await gateScript.run(redis, gateKeys, args)) as [number, number];
  if (heldBy > 0) return { held: true, state: states[heldBy - 1]!, dueInMs };
  const slotState = states.find((s) => s.limit > 0);
  if (!slotState) return { held: false, slot: undefined };
  const slot = keepLease({
    ttlMs: leaseTtlMs,
    sentAt,
    extend: async () => (await renewScript.run(redis, [slotState.keys.run], [holder, leaseTtlMs])) === 1,
    release: () => runWake(redis, keys, slotState, holder),
    onLost,
  });
  return { held: false, slot };
}

const wakeKeys = (keys: RedisKeys, s: LimitState) => [keys.limitDue, `${keys.jobHash('')}delayed`, `${keys.jobHash('')}marker`, s.keys.run, s.keys.starts, s.keys.parked, s.keys.pause];

/** Frees `holder`'s slot (if given) and wakes what the state has room for; ms until it is due again, or -1. */
export async function runWake(redis: Redis, keys: RedisKeys, state: LimitState, holder = ''): Promise<number> {
  return (await releaseScript.run(redis, wakeKeys(keys, state), [holder, state.limit, state.max, state.durationMs, state.member, keys.jobHash(''), PUT_BACK_FIELD])) as number;
}

/**
 * Finishes parking a job the gate held back (and already pushed onto its state's parked list):
 * moved to delayed, far ahead, no attempt spent. `due` tells this process's sweeper when the state
 * may have room. One round trip: a parked job costs nothing more until it is woken. Always
 * rejects: with DelayedError once done.
 */
export async function parkHeldJob(job: Job, token: string | undefined, dueInMs: number, due: (inMs: number) => void): Promise<never> {
  await job.moveToDelayed(Date.now() + PARK_SAFETY_MS, token);
  due(dueInMs);
  throw new DelayedError();
}

/**
 * Parks the active `job` on `state` outside the gate (RateLimitedError): moved to delayed (far
 * ahead, no attempt spent), then onto the state's parked list. Always rejects: with DelayedError.
 */
export async function parkJob(redis: Redis, keys: RedisKeys, job: Job, token: string | undefined, state: LimitState, due: (inMs: number) => void): Promise<never> {
  await job.moveToDelayed(Date.now() + PARK_SAFETY_MS, token);
  const inMs = (await parkScript.run(redis, wakeKeys(keys, state), [job.id ?? '', state.limit, state.max, state.durationMs, state.member, keys.jobHash(''), PUT_BACK_FIELD])) as number;
  if (inMs >= 0) due(inMs);
  throw new DelayedError();
}

/** Holds `state`'s jobs back for `ms` (RateLimitedError); a longer pause already set stays. */
export async function pauseState(redis: Redis, state: LimitState, ms: number): Promise<void> {
  await pauseScript.run(redis, [state.keys.pause], [Math.max(1, Math.round(ms))]);
}

/** The job's put-back mark, set by hand when a job is parked without the gate (RateLimitedError). */
export async function markPutBack(redis: Redis, job: Job, reason: PutBackReason): Promise<void> {
  await redis.eval(`if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0`, 1, `${job.queueQualifiedName}:${job.id ?? ''}`, PUT_BACK_FIELD, reason);
}
