// `npm start`: the whole system in one process for local development (SPEC §11): api, worker
// and scheduler, embedded PGlite unless DATABASE_URL is set, and Redis at REDIS_URL or a
// private redis-server when nothing answers there.
import { resolve } from 'node:path';
import { createDatabase, migrateToLatest } from '@jobs/shared/db';
import { loadConfigOrExit } from '@jobs/shared/config';
import { createLogger, scopedLogger } from '@jobs/shared/logger';
import { onShutdownSignal } from '@jobs/shared/process';
import { createMetricsRegistry } from '@jobs/shared/metrics';
import { startTracingOrExit } from '@jobs/shared/tracing';
import { startApiService } from '../services/api/src/api-service.js';
import { startSchedulerService } from '../services/scheduler/src/scheduler-service.js';
import { startWorkerService } from '../services/worker/src/worker-service.js';
import { formatBanner } from './lib/banner.js';
import { RedisUnavailableError, resolveRedis } from './lib/private-redis.js';

const configured = loadConfigOrExit();
const rootLog = createLogger({ level: configured.logLevel, pretty: configured.isLocal && process.stdout.isTTY });
const log = scopedLogger(rootLog, 'local');

// What has started, closed in reverse on shutdown: api first (no new work), private Redis last.
const closers: Array<() => Promise<void>> = [];
async function closeAll(): Promise<void> {
  let failure: unknown;
  while (closers.length > 0) {
    try {
      await closers.pop()!();
    } catch (err) {
      failure ??= err;
      log.error({ err }, 'close failed');
    }
  }
  if (failure !== undefined) throw failure;
}
// Installed before anything starts, so Ctrl-C during the slow PGlite start still cleans up.
onShutdownSignal(log, closeAll);

async function start(): Promise<void> {
  // OTEL_* variables (SPEC §15): one process, so one service name, `jobs`; closed last, after
  // everything that makes spans.
  const tracing = await startTracingOrExit('jobs', rootLog);
  closers.push(() => tracing.shutdown());
  const redis = await resolveRedis(configured.redisUrl);
  if (redis.source === 'private') closers.push(() => redis.server.stop());
  // Only the config module reads the environment; the resolved Redis goes in as an override.
  const config = loadConfigOrExit({ ...process.env, REDIS_URL: redis.url });

  const database = await createDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  closers.push(() => database.close());
  const { applied } = await migrateToLatest(database.db);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');

  // One process, one port: the api's /healthz covers it, so worker and scheduler start no health
  // server, and the api's /metrics serves their metrics too (Node's process metrics once, the api's).
  const workerMetrics = createMetricsRegistry('worker', { defaultMetrics: false });
  const schedulerMetrics = createMetricsRegistry('scheduler', { defaultMetrics: false });
  const worker = await startWorkerService(config, rootLog, { healthPort: false, db: database.db, metrics: workerMetrics });
  closers.push(() => worker.close());
  const scheduler = await startSchedulerService(config, rootLog, { healthPort: false, db: database.db, metrics: schedulerMetrics });
  closers.push(() => scheduler.close());
  const api = await startApiService(config, rootLog, { db: database.db, extraRegistries: [workerMetrics, schedulerMetrics] });
  closers.push(() => api.close());

  process.stdout.write(
    formatBanner({
      port: api.port,
      redis,
      database: config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', path: resolve(config.dataDir, 'pglite') },
    }),
  );
}

start().catch(async (err: unknown) => {
  const line = err instanceof RedisUnavailableError ? err.message : `local run failed to start: ${describe(err)}`;
  await closeAll().catch(() => {});
  // Exit only once the line is written: exiting at once could cut it off on a pipe.
  process.stderr.write(`${line}\n`, () => process.exit(1));
});

/** One printable line; connection errors can be AggregateErrors with an empty message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message.split('\n')[0]!;
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  return (err as { code?: string }).code ?? err.name;
}
