import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';

export { isClusterUrl, parseRedisUrl, RedisUrlError, type ClusterNode, type RedisTarget } from './redis-url.js';

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

const retryStrategy = (times: number) => Math.min(times * 200, 2_000);

/**
 * A new ioredis connection for `role` to the Redis that `url` names (see `parseRedisUrl`).
 * Reconnects with capped backoff; the caller owns it and must `quit()` it (BullMQ does not close
 * connections it was handed).
 *
 * With a `redis+cluster://` URL this is an ioredis `Cluster`, typed as `Redis`: both have the
 * command, pub/sub and lifecycle API this project uses (commands, `status`, `quit`, `disconnect`,
 * `ready`/`close`/`end` events), and BullMQ recognises a cluster at run time (`isCluster`). Do
 * not use what only a single-node client has (`select`, `monitor`, `options.host`). On a
 * cluster, every key a command or script touches must share a hash slot: use a queue prefix in
 * braces (`{jobs}`), under which all of this project's keys live (see `redisKeys`).
 *
 * @example
 * const redis = createRedis('redis://127.0.0.1:6379', 'producer');
 * const cluster = createRedis('redis+cluster://redis-0:6379,redis-1:6379', 'worker');
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const target = parseRedisUrl(url);
  const redis =
    target.mode === 'cluster'
      ? (new Cluster(target.nodes, clusterOptions(target, role, extra)) as unknown as Redis)
      : new Redis(url, {
          ...roleOptions[role],
          retryStrategy,
          lazyConnect: false,
          ...extra,
        });
  // Connection errors are expected during an outage and handled by reconnecting;
  // without a listener ioredis prints an "Unhandled error event" for each attempt.
  redis.on('error', () => {});
  return redis;
}

/**
 * The same role settings for a cluster: what concerns the cluster as a whole (offline queue,
 * reconnecting, ready check, lazy connect) goes on the `Cluster`, the rest on every node connection.
 */
function clusterOptions(target: Extract<RedisTarget, { mode: 'cluster' }>, role: RedisRole, extra: RedisOptions): ClusterOptions {
  const merged: RedisOptions = { ...roleOptions[role], retryStrategy, lazyConnect: false, ...extra };
  // The cluster-wide fields are taken out, and so are those a cluster sets per node itself
  // (address, sentinels, read-only mode), which `redisOptions` does not accept.
  // prettier-ignore
  const { retryStrategy: retry, enableOfflineQueue, enableReadyCheck, lazyConnect, host: _host, port: _port, path: _path, sentinels: _sentinels, readOnly: _readOnly, himportFieldsets: _fieldsets, ...node } = merged;
  return {
    clusterRetryStrategy: retry ?? null,
    enableOfflineQueue,
    enableReadyCheck,
    lazyConnect,
    // With TLS, connect to seed nodes by name rather than a resolved IP so certificates are checked
    // against the name (ioredis' advice for TLS clusters such as ElastiCache).
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: {
      ...node,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
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
