import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Compare-and-set scripts: only the holder of the token may extend or release the lock, so a
// run whose lock already expired (and was taken by another) cannot free someone else's lock.
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface HeldLock {
  /** Stops renewing and releases the lock if this holder still has it. */
  release(): Promise<void>;
  /** True once a renewal found the lock gone (expired, or taken over). */
  readonly lost: boolean;
}

/**
 * Takes the lock `key` for `ttlMs` if free, renewing it every third of the TTL while held.
 * Returns undefined when someone else holds it. If the process dies, the lock expires after
 * `ttlMs`, so a crashed holder never blocks forever.
 *
 * @example
 * const lock = await acquireLock(redis, 'bull:jobs:lock:singleton:dailyCleanup:', 30_000);
 * if (lock) try { … } finally { await lock.release(); }
 */
export async function acquireLock(redis: Redis, key: string, ttlMs: number): Promise<HeldLock | undefined> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return undefined;
  let lost = false;
  const timer = setInterval(() => {
    redis.eval(EXTEND, 1, key, token, ttlMs).then(
      (res) => {
        if (res === 0) lost = true;
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
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined); // expires by itself otherwise
    },
  };
}
