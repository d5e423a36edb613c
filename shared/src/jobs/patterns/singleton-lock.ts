import type { Redis } from 'ioredis';
import { extendLock, newLockToken, releaseLock, tryAcquireLock } from '../../redis/token-lock.js';

/** Why a held lock was given up: a renewal found it gone, or no renewal succeeded within its TTL. */
export type LockLoss = 'gone' | 'expired';

export interface HeldLock {
  /** Stops renewing and releases the lock if this holder still has it. */
  release(): Promise<void>;
  /** True once the lock was given up as lost (see {@link LockLoss}). */
  readonly lost: boolean;
}

/**
 * Share of the TTL by which the local deadline precedes the real expiry, so that a timer that
 * fires a little late (a busy event loop) still fires before Redis lets another holder in.
 */
const DEADLINE_MARGIN = 0.1;

/**
 * Takes the lock `key` for `ttlMs` if free, renewing it every third of the TTL while held.
 * Returns undefined when someone else holds it. If the process dies, the lock expires after
 * `ttlMs`, so a crashed holder never blocks forever. Only the holder's token may extend or
 * release it (compare-and-set), so a late holder never frees someone else's lock.
 *
 * `onLost` is called once, as soon as this holder must stop believing it holds the lock:
 * - `gone`: a renewal answered that the key is missing or holds another token;
 * - `expired`: no renewal succeeded for the TTL (less a margin), counted from the moment the
 *   last successful one was *sent* — Redis started the TTL later than that, so the lock cannot
 *   have expired (and been taken by another) before this fires.
 * A renewal that fails with an error (a blip) is not a loss by itself: the next one tries again,
 * and only the deadline decides. Once lost, the lock is never regained: renewals stop.
 * The guarantee is about belief, not effects: a handler that ignores its signal keeps running, and
 * an event loop blocked for longer than the margin delays the callback past the real expiry.
 *
 * @example
 * const lock = await acquireLock(redis, 'bull:jobs:lock:singleton:dailyCleanup:', 30_000, () => stop());
 * if (lock) try { … } finally { await lock.release(); }
 */
export async function acquireLock(redis: Redis, key: string, ttlMs: number, onLost?: (why: LockLoss) => void): Promise<HeldLock | undefined> {
  const token = newLockToken();
  const sentAt = performance.now();
  if (!(await tryAcquireLock(redis, key, token, ttlMs))) return undefined;
  return keepLease({ ttlMs, sentAt, extend: () => extendLock(redis, key, token, ttlMs), release: () => releaseLock(redis, key, token), onLost });
}

/** How a lease taken elsewhere (a token lock, a concurrency slot) is renewed and given back. */
export interface LeaseOps {
  ttlMs: number;
  /** `performance.now()` when the request that took the lease was sent. */
  sentAt: number;
  /** Extends the lease to `ttlMs` from now; false if it is gone or someone else's. */
  extend(): Promise<boolean>;
  /** Gives the lease back (only while this holder still has it). */
  release(): Promise<unknown>;
  onLost?: ((why: LockLoss) => void) | undefined;
}

/**
 * Keeps a lease just taken: renews it every third of its TTL, calls `onLost` as {@link acquireLock}
 * describes, and gives it back on `release()`. Shared by the singleton lock and the concurrency
 * slots of jobs/limits, so both lose their lease the same way (reason `lockLost`).
 */
export function keepLease(ops: LeaseOps): HeldLock {
  const { ttlMs, onLost } = ops;
  let state: 'held' | 'lost' | 'released' = 'held';
  let deadline: NodeJS.Timeout | undefined;

  const stop = () => {
    clearInterval(renewal);
    clearTimeout(deadline);
  };
  const lose = (why: LockLoss) => {
    if (state !== 'held') return;
    state = 'lost';
    stop();
    onLost?.(why);
  };
  const armDeadline = (confirmedSentAt: number) => {
    clearTimeout(deadline);
    const left = confirmedSentAt + ttlMs * (1 - DEADLINE_MARGIN) - performance.now();
    deadline = setTimeout(() => lose('expired'), Math.max(0, left));
    deadline.unref();
  };
  const renewal = setInterval(() => {
    const renewSentAt = performance.now();
    ops.extend().then(
      (held) => {
        if (state !== 'held') return;
        if (held) armDeadline(renewSentAt);
        else lose('gone');
      },
      () => undefined, // a blip: the next renewal tries again; the deadline decides when it is too late
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  renewal.unref();
  armDeadline(ops.sentAt);

  return {
    get lost() {
      return state === 'lost';
    },
    async release() {
      stop();
      // A lost lock is not ours any more (or expires in a moment): nothing to give back, and no
      // call to wait on while Redis may be unreachable.
      if (state !== 'held') return;
      state = 'released';
      await ops.release().catch(() => undefined); // expires by itself otherwise
    },
  };
}
