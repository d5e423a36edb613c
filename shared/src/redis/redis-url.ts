/** A seed node of a Redis Cluster. */
export interface ClusterNode {
  host: string;
  port: number;
}

/**
 * What `REDIS_URL` names:
 * - `standalone`: one Redis (`redis://` or `rediss://`), the URL is handed to ioredis as it is;
 * - `cluster`: a Redis Cluster (`redis+cluster://` or `rediss+cluster://`), reached through one or
 *   more seed nodes; the client discovers the rest itself (`CLUSTER SLOTS`).
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: ClusterNode[]; tls: boolean; username: string | undefined; password: string | undefined };

/** `REDIS_URL` is not something {@link parseRedisUrl} accepts; the message says why. */
export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]+)\/?$/;
// A host name or IPv4 address, or an IPv6 address in brackets; the port is optional.
const NODE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;

/**
 * Parses `REDIS_URL`. A cluster URL lists its seed nodes separated by commas, without a database
 * number (a cluster has only database 0) or query options:
 * `redis+cluster://[user:password@]host:port[,host:port…]`.
 *
 * @example
 * parseRedisUrl('redis://127.0.0.1:6379');                 // { mode: 'standalone', url: 'redis://127.0.0.1:6379' }
 * parseRedisUrl('redis+cluster://:s3cret@redis-0:6379,redis-1:6379');
 * // { mode: 'cluster', nodes: [{ host: 'redis-0', port: 6379 }, { host: 'redis-1', port: 6379 }], tls: false, username: undefined, password: 's3cret' }
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new RedisUrlError('is not a valid URL');
    }
    return { mode: 'standalone', url };
  }
  const match = CLUSTER_URL.exec(url);
  if (!match) {
    throw new RedisUrlError('must be redis://host:port, rediss://host:port, or redis+cluster://host:port[,host:port…] (rediss+cluster:// for TLS)');
  }
  const [, scheme, auth, hosts] = match;
  const nodes = hosts!.split(',').map((entry): ClusterNode => {
    const node = NODE.exec(entry.trim());
    const port = Number(node?.[2] ?? 6379);
    if (!node || port < 1 || port > 65535) throw new RedisUrlError(`has a bad cluster node "${entry}" (expected host:port)`);
    return { host: node[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    try {
      username = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon)) || undefined;
      password = colon === -1 ? undefined : decodeURIComponent(auth.slice(colon + 1)) || undefined;
    } catch {
      throw new RedisUrlError('has badly percent-encoded credentials');
    }
  }
  return { mode: 'cluster', nodes, tls: scheme === 'rediss', username, password };
}

/**
 * Whether `url` names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`).
 *
 * @example
 * isClusterUrl('redis+cluster://redis-0:6379'); // true
 */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}
