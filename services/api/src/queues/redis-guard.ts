import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '@jobs/shared';
import { redisCall } from '@jobs/shared/jobs';

/**
 * Runs a queue admin operation on `redis` (the connection the queues use) so that an outage answers 503 (`QueueUnavailableError`,
 * as the job routes do) instead of a 500, and, with `timeoutMs`, a Redis that accepts but does
 * not answer does not hang the request. Retry and clean pass no timeout: they may legitimately
 * page through many jobs, and each of their calls still fails fast on a lost connection.
 */
export async function onRedis<T>(redis: Redis, op: () => Promise<T>, timeoutMs?: number): Promise<T> {
  // BullMQ would wait for a lost connection to come back: answer now instead.
  if (redis.status !== 'ready') throw new QueueUnavailableError(`connection is ${redis.status}`);
  return redisCall(op, timeoutMs);
}

/** The bound on quick admin reads and writes (queue list, pause, resume, one page of jobs). */
export const ADMIN_REDIS_TIMEOUT_MS = 5_000;
