import type { Redis } from 'ioredis';
import { extendLock, newLockToken, releaseLock, tryAcquireLock } from '../../redis/token-lock.js';

export interface HeldLock {
  /** Stops renewing and releases the lock if this holder still has it. */
  release(): Promise<void>;
  /** True once a renewal found the lock gone (expired, or taken over). */
  readonly lost: boolean;
}

/**
 * Takes the lock `key` for `ttlMs` if free, renewing it every third of the TTL while held.
 * Returns undefined when someone else holds it. If the process dies, the lock expires after
 * `ttlMs`, so a crashed holder never blocks forever. Only the holder's token may extend or
 * release it (compare-and-set), so a late holder never frees someone else's lock.
 *
 * @example
 * const lock = await acquireLock(redis, 'bull:jobs:lock:singleton:dailyCleanup:', 30_000);
 * if (lock) try { … } finally { await lock.release(); }
 */
export async function acquireLock(redis: Redis, key: string, ttlMs: number): Promise<HeldLock | undefined> {
  const token = newLockToken();
  if (!(await tryAcquireLock(redis, key, token, ttlMs))) return undefined;
  let lost = false;
  const timer = setInterval(() => {
    extendLock(redis, key, token, ttlMs).then(
      (held) => {
        if (!held) lost = true;
      },
      () => undefined, // a blip: the next renewal tries again before the TTL runs out
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    async release() {
      clearInterval(timer);
      await releaseLock(redis, key, token).catch(() => undefined); // expires by itself otherwise
    },
  };
}
