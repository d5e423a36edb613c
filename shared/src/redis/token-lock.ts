import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

// Compare-and-set lock primitives shared by the singleton job lock and the scheduler's leader
// lock: only the holder of the token may extend or release, so a holder whose lock already
// expired (and was taken by another) can never touch the new holder's lock.
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A lock token that also says who holds it (`host/pid/uuid`), so `GET key` in redis-cli shows
 * which process is the holder.
 *
 * @example
 * newLockToken(); // 'web-1/4242/6f1c…'
 */
export function newLockToken(): string {
  return `${HOLDER}/${randomUUID()}`;
}

// Read once: a concurrency slot takes a token per job, and hostname() is a system call.
const HOLDER = `${hostname()}/${process.pid}`;

/**
 * Takes `key` for `ttlMs` if nobody holds it. Resolves true when taken.
 *
 * @example
 * const token = newLockToken();
 * if (await tryAcquireLock(redis, key, token, 10_000)) { … }
 */
export async function tryAcquireLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
}

/**
 * Extends the lock to `ttlMs` from now if `token` still holds it. False: it is gone or someone else's.
 *
 * @example
 * if (!(await extendLock(redis, key, token, 10_000))) stopActing();
 */
export async function extendLock(redis: Redis, key: string, token: string, ttlMs: number): Promise<boolean> {
  return (await redis.eval(EXTEND, 1, key, token, ttlMs)) === 1;
}

/**
 * Deletes the lock if `token` still holds it. False: it had expired or was someone else's.
 *
 * @example
 * await releaseLock(redis, key, token);
 */
export async function releaseLock(redis: Redis, key: string, token: string): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, key, token)) === 1;
}
