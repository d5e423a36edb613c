import { Queue } from 'bullmq';
import {
  closeRedis,
  createMetricsRegistry,
  createRedis,
  createWorker,
  jobHandlers,
  registerQueueDepth,
  startHealthServer,
  type Config,
  type Logger,
} from '@jobs/shared';

export interface WorkerService {
  close(): Promise<void>;
}

/**
 * The worker service: the built-in handlers on a BullMQ worker, sized by the config, with
 * `/healthz`, `/readyz` and `/metrics` on `WORKER_PORT` (`healthPort: false`: no server, as in
 * the all-in-one local run where the API answers for the process).
 */
export async function startWorkerService(config: Config, log: Logger, options: { healthPort?: number | false } = {}): Promise<WorkerService> {
  const metrics = createMetricsRegistry('worker');
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
  });
  const probe = createRedis(config.redisUrl, 'producer');
  const queue = new Queue(config.queueName, { connection: probe, prefix: config.queuePrefix });
  queue.on('error', () => undefined); // readiness reports outages
  registerQueueDepth(metrics, queue);
  const healthPort = options.healthPort ?? config.workerPort;
  const health = healthPort === false ? undefined : await startHealthServer(healthPort, { redis: () => probe.ping() }, { metrics });
  log.info(
    { queue: config.queueName, prefix: config.queuePrefix, concurrency: config.worker.concurrency, handlers: Object.keys(jobHandlers), healthPort: health?.port },
    'worker started',
  );
  return {
    async close() {
      await health?.close();
      await worker.close();
      await queue.close();
      await closeRedis(probe);
    },
  };
}
