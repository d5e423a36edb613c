import type { Kysely } from 'kysely';
import { createJobClient, createWorker, jobHandlers } from '@jobs/shared';
import { workerQueues } from '@jobs/shared/jobs';
import type { Database } from '@jobs/shared/db';
import { ConfigError, type Config } from '@jobs/shared/config';
import type { Logger } from '@jobs/shared/logger';
import { closeRedis, createRedis } from '@jobs/shared/redis';
import { startHealthServer } from '@jobs/shared/process';
import { createMetricsRegistry, registerQueueDepth, type Registry } from '@jobs/shared/metrics';
import { createWebhookRuntime } from './webhook-runtime.js';

export interface WorkerService {
  close(): Promise<void>;
}

export interface WorkerServiceOptions {
  /** The database handlers reach through `ctx.services.db`. */
  db: Kysely<Database>;
  /** Port of `/healthz`, `/readyz`, `/metrics` (default `WORKER_PORT`); `false`: no server (all-in-one local run). */
  healthPort?: number | false;
  /** Where its metrics go (default: a registry of its own with Node's process metrics, served on its health port). */
  metrics?: Registry;
}

/**
 * The worker service: the built-in handlers on a BullMQ worker sized by the config, with the
 * database and the webhook runtime as `ctx.services`, and health and metrics endpoints.
 */
export async function startWorkerService(config: Config, log: Logger, options: WorkerServiceOptions): Promise<WorkerService> {
  const { db } = options;
  // Checked before anything opens: a queue no handler uses is one line naming the variable.
  let queues: Map<string, number>;
  try {
    queues = workerQueues(jobHandlers, config.queueName, config.worker.queues, config.worker.concurrency);
  } catch (err) {
    throw new ConfigError('WORKER_QUEUES', (err as Error).message.replace(/^queues(\.\S+)? /, ''));
  }
  const metrics = options.metrics ?? createMetricsRegistry('worker');
  // One producer connection: readiness, queue depth, and relaying the breaker's events.
  const producer = createRedis(config.redisUrl, 'producer');
  const jobs = createJobClient({ handlers: jobHandlers, connection: producer, prefix: config.queuePrefix, queueName: config.queueName, workerLockDurationMs: config.worker.lockDurationMs });
  // queue_jobs for the queues this pool runs: KEDA and the alerts read each queue's depth by its `queue` label.
  registerQueueDepth(metrics, [...queues.keys()].flatMap((name) => jobs.queues.get(name) ?? []));
  const webhooks = await createWebhookRuntime(config, { db, jobs, metrics });
  const worker = createWorker({
    handlers: jobHandlers,
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    queueName: config.queueName,
    concurrency: config.worker.concurrency,
    queues: Object.fromEntries(queues),
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
      : await startHealthServer(
          healthPort,
          {
            redis: () => producer.ping(),
            db: () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute(),
            // Ready only while the worker of every queue it runs is taking jobs.
            queues: async () => {
              const stopped = [...worker.workers].filter(([, w]) => !w.isRunning()).map(([name]) => name);
              if (stopped.length) throw new Error(`not running: ${stopped.join(', ')}`);
            },
          },
          { metrics },
        );
  log.info(
    { queue: config.queueName, queues: Object.fromEntries(queues), prefix: config.queuePrefix, concurrency: config.worker.concurrency, handlers: Object.keys(jobHandlers), healthPort: health?.port },
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
