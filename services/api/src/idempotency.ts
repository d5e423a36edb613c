import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@jobs/shared';

/** How long a key is remembered (as Stripe does). */
const TTL_SECONDS = 24 * 3600;
const PENDING = 'pending';
/** A claim whose request died mid-way frees the key after this, instead of blocking it for a day. */
const PENDING_TTL_SECONDS = 30;

export type IdempotencyOutcome =
  | { kind: 'new'; commit(jobId: string): Promise<void>; abandon(): Promise<void> }
  | { kind: 'replay'; jobId: string }
  | { kind: 'in_progress' }
  | { kind: 'mismatch' };

/**
 * `Idempotency-Key` for `POST /job`: the first request with a key claims it (SET NX), enqueues,
 * and records the job id; a repeat with the same body gets that id back; a repeat with another
 * body is refused (the key was reused by mistake); a repeat while the first is still enqueueing
 * is told to retry. Keys are per actor, so two clients cannot collide.
 */
export async function claimIdempotencyKey(redis: Redis, keys: RedisKeys, actor: string, key: string, body: unknown): Promise<IdempotencyOutcome> {
  const redisKey = keys.idempotency(createHash('sha256').update(`${actor}\n${key}`).digest('hex'));
  const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const claimed = await redis.set(redisKey, JSON.stringify({ state: PENDING, fingerprint }), 'EX', PENDING_TTL_SECONDS, 'NX');
  if (claimed === 'OK') {
    return {
      kind: 'new',
      commit: async (jobId) => void (await redis.set(redisKey, JSON.stringify({ state: 'done', fingerprint, jobId }), 'EX', TTL_SECONDS)),
      abandon: async () => void (await redis.del(redisKey)),
    };
  }
  const stored = JSON.parse((await redis.get(redisKey)) ?? '{}') as { state?: string; fingerprint?: string; jobId?: string };
  if (stored.fingerprint !== undefined && stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (stored.state === 'done' && stored.jobId) return { kind: 'replay', jobId: stored.jobId };
  return { kind: 'in_progress' };
}
