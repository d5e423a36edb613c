import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { closeRedis, createRedis, scopedLogger, type Config, type DatabaseHandle, type Logger, type ReadinessCheck } from '@jobs/shared';
import { createApp } from './app.js';

export interface ApiServiceOptions {
  /** Port to listen on (default `config.port`; 0 = a free port). */
  port?: number;
  /** Checked by `/readyz` when given. */
  db?: DatabaseHandle['db'];
  host?: string;
}

export interface ApiService {
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes Redis. */
  close(): Promise<void>;
}

/** In-flight requests get this long after `close()` before their connections are cut. */
const DRAIN_MS = 10_000;

/**
 * Serves the API app over HTTP with its own producer Redis connection.
 *
 * @example
 * const api = await startApiService(config, log, { db });
 * process.on('SIGTERM', () => api.close());
 */
export async function startApiService(config: Config, parentLog: Logger, options: ApiServiceOptions = {}): Promise<ApiService> {
  const log = scopedLogger(parentLog, 'api');
  const redis = createRedis(config.redisUrl, 'producer');
  const checks: Record<string, ReadinessCheck> = { redis: () => redis.ping() };
  const { db } = options;
  if (db) checks.db = () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  const app = createApp({ config, log, checks });

  let server: Server;
  try {
    server = await listen(app.fetch, options.port ?? config.port, options.host ?? '0.0.0.0');
  } catch (err) {
    await closeRedis(redis);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        // A hung request must not hold shutdown forever.
        const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
        await drained;
        clearTimeout(cut);
        await closeRedis(redis);
      })()),
  };
}

/** `serve` reports a failed listen (e.g. EADDRINUSE) only as an 'error' event; make it a rejection. */
function listen(fetch: Parameters<typeof serve>[0]['fetch'], port: number, hostname: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Plain HTTP/1.1: serve's default createServer is node:http's.
    const server = serve({ fetch, port, hostname }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
