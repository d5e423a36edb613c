import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import type { AbortMessage } from './abort-reason.js';

/** How long the fallback flag outlives the request; a worker that missed the message reads it on reconnect. */
export const ABORT_FLAG_TTL_SECONDS = 24 * 3600;

/**
 * Tells whichever worker process runs `jobId` to abort it: one pub/sub message, which every
 * worker hears at once, plus a flag key read by a worker that was disconnected when it was sent.
 */
export async function requestAbort(redis: Redis, keys: RedisKeys, message: AbortMessage): Promise<void> {
  await redis
    .multi()
    .set(keys.abortFlag(message.jobId), JSON.stringify(message), 'EX', ABORT_FLAG_TTL_SECONDS)
    .publish(keys.abortChannel, JSON.stringify(message))
    .exec();
}
