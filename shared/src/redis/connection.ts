import { Redis, type RedisOptions } from 'ioredis';

/**
 * What a connection is for; each needs different ioredis settings.
 * - `worker`: blocking commands, must wait out outages (`maxRetriesPerRequest: null`, BullMQ's rule).
 * - `producer`: enqueue and admin calls, must fail fast so the API can answer 503.
 * - `subscriber`: pub/sub, reconnects forever and re-subscribes.
 */
export type RedisRole = 'worker' | 'producer' | 'subscriber';

const roleOptions: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  subscriber: { maxRetriesPerRequest: null, enableReadyCheck: true },
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 },
};

/**
 * A new ioredis connection for `role`. Reconnects with capped backoff; the caller owns it and
 * must `quit()` it (BullMQ does not close connections it was handed).
 *
 * @example
 * const redis = createRedis('redis://127.0.0.1:6379', 'producer');
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    ...roleOptions[role],
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    // Connection errors are expected during an outage and handled by reconnecting;
    // without a listener ioredis prints an "Unhandled error event" for each attempt.
    lazyConnect: false,
    ...extra,
  });
  redis.on('error', () => {});
  return redis;
}

/** Closes a connection: `quit` when it is up, `disconnect` when it is not (quit would wait). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
