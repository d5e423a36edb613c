import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Kysely } from 'kysely';
import { createJobClient, jobHandlers, type HandlerMap, type JobClient } from '@jobs/shared';
import { backfillSubscriptionSecrets, loadSigningKeys, loadWebhookSecretBox } from '@jobs/shared/webhooks';
import type { Database } from '@jobs/shared/db';
import type { Config } from '@jobs/shared/config';
import { scopedLogger, type Logger } from '@jobs/shared/logger';
import { closeRedis, createRedis, isClusterUrl, queuePrefix, redisKeys } from '@jobs/shared/redis';
import { createMetricsRegistry, type Registry } from '@jobs/shared/metrics';
import { createApp } from './app.js';
import { resolveAuth } from './auth/auth-policy.js';

export interface ApiServiceOptions {
  db: Kysely<Database>;
  /** Port to listen on (default `config.port`; 0 = a free port). */
  port?: number;
  host?: string;
  /** Registries of other services in this process that the api's `/metrics` serves too (the all-in-one local run). */
  extraRegistries?: readonly Registry[];
}

export interface ApiService {
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes Redis. */
  close(): Promise<void>;
}

/** In-flight requests get this long after `close()` before their connections are cut. */
const DRAIN_MS = 10_000;

/**
 * Serves the API app over HTTP with its own producer Redis connection. Throws
 * `AuthNotConfiguredError` outside local when no auth is configured, and `ConfigError` when the
 * webhook signing key cannot be loaded (it publishes the public half at `/.well-known/jwks.json`).
 *
 * @example
 * const api = await startApiService(config, log, { db });
 * process.on('SIGTERM', () => api.close());
 */
export async function startApiService(config: Config, parentLog: Logger, options: ApiServiceOptions): Promise<ApiService> {
  const log = scopedLogger(parentLog, 'api');
  const auth = resolveAuth(config, log);
  const { db } = options;
  // Before any connection opens, so a bad key leaves nothing to close.
  const signingKeys = await loadSigningKeys(config);
  const webhookSecrets = await loadWebhookSecretBox(config);
  // Subscriptions from before migration 0003 get their Standard Webhooks secret now. In the
  // background and never fatal: the API comes up (and /readyz says so) with the database down,
  // and a worker gives such a row its secret at its next delivery anyway.
  const backfill = backfillSubscriptionSecrets(db, webhookSecrets).then(
    (filled) => filled > 0 && log.info({ subscriptions: filled }, 'webhook subscriptions given a Standard Webhooks secret'),
    (err: unknown) => log.warn({ err }, 'could not give older webhook subscriptions their secret now; workers will at their next delivery'),
  );
  const redis = createRedis(config.redisUrl, 'producer');
  const jobs = createJobClient({ handlers: jobHandlers, connection: redis, prefix: config.queuePrefix, queueName: config.queueName, workerLockDurationMs: config.worker.lockDurationMs });
  const metrics = createMetricsRegistry('api');
  const app = createApp({
    config,
    log,
    checks: { redis: () => redis.ping(), db: () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute() },
    handlers: jobHandlers,
    jobs: jobs as JobClient<HandlerMap>,
    db,
    redis,
    // The default queue's keys (idempotency records, cron change notices), where the scheduler and workers look.
    keys: redisKeys(queuePrefix(config.queuePrefix, config.queueName, isClusterUrl(config.redisUrl)), config.queueName),
    metrics,
    extraRegistries: options.extraRegistries,
    auth,
    signingKeys,
    webhookSecrets,
  });

  const closeClients = async () => {
    await backfill;
    await jobs.close();
    await closeRedis(redis);
  };
  let server: Server;
  try {
    server = await listen(app.fetch, options.port ?? config.port, options.host ?? '0.0.0.0');
  } catch (err) {
    await closeClients();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  log.info({ port, auth: auth ? 'bearer' : 'open' }, 'api listening');

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
        await closeClients();
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
