import type { Kysely } from 'kysely';
import {
  closeRedis,
  createJobClient,
  createMetricsRegistry,
  createRedis,
  createWorker,
  jobHandlers,
  registerQueueDepth,
  startHealthServer,
  type Config,
  type Database,
  type Logger,
} from '@jobs/shared';
import { createWebhookRuntime } from './webhook-runtime.js';

export interface WorkerService {
  close(): Promise<void>;
}

export interface WorkerServiceOptions {
  /** The database handlers reach through `ctx.services.db`. */
  db: Kysely<Database>;
  /** Port of `/healthz`, `/readyz`, `/metrics` (default `WORKER_PORT`); `false`: no server (all-in-one local run). */
  healthPort?: number | false;
}

/**
 * The worker service: the built-in handlers on a BullMQ worker sized by the config, with the
 * database and the webhook runtime as `ctx.services`, and health and metrics endpoints.
 */
export async function startWorkerService(config: Config, log: Logger, options: WorkerServiceOptions): Promise<WorkerService> {
  const { db } = options;
  const metrics = createMetricsRegistry('worker');
  // One producer connection: readiness, queue depth, and relaying the breaker's events.
  const producer = createRedis(config.redisUrl, 'producer');
  const jobs = createJobClient({ handlers: jobHandlers, connection: producer, prefix: config.queuePrefix, queueName: config.queueName, workerLockDurationMs: config.worker.lockDurationMs });
  registerQueueDepth(metrics, jobs.queue);
  const webhooks = await createWebhookRuntime(config, { db, jobs, metrics });
  const worker = createWorker({
    handlers: jobHandlers,
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    queueName: config.queueName,
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
    logger: log,
    metrics,
    services: { db, webhooks },
  });
  const healthPort = options.healthPort ?? config.workerPort;
  const health =
    healthPort === false
      ? undefined
      : await startHealthServer(healthPort, { redis: () => producer.ping(), db: () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute() }, { metrics });
  log.info(
    { queue: config.queueName, prefix: config.queuePrefix, concurrency: config.worker.concurrency, handlers: Object.keys(jobHandlers), healthPort: health?.port },
    'worker started',
  );
  return {
    async close() {
      await health?.close();
      await worker.close();
      await webhooks.close();
      await jobs.close();
      await closeRedis(producer);
    },
  };
}
