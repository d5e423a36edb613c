import { createRedis, closeRedis, createWorker, jobHandlers, startHealthServer, type Config, type Logger } from '@jobs/shared';

export interface WorkerService {
  close(): Promise<void>;
}

/**
 * The worker service: the built-in handlers on a BullMQ worker, sized by the config, with
 * `/healthz` and `/readyz` on `WORKER_PORT` (0 = a free port, -1 never).
 */
export async function startWorkerService(config: Config, log: Logger, options: { healthPort?: number | false } = {}): Promise<WorkerService> {
  const worker = createWorker({
    handlers: jobHandlers,
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    queueName: config.queueName,
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    shutdownTimeoutMs: config.worker.shutdownTimeoutMs,
    logger: log,
  });
  const probe = createRedis(config.redisUrl, 'producer');
  const healthPort = options.healthPort ?? config.workerPort;
  const health = healthPort === false ? undefined : await startHealthServer(healthPort, { redis: () => probe.ping() });
  log.info(
    { queue: config.queueName, prefix: config.queuePrefix, concurrency: config.worker.concurrency, handlers: Object.keys(jobHandlers), healthPort: health?.port },
    'worker started',
  );
  return {
    async close() {
      await health?.close();
      await worker.close();
      await closeRedis(probe);
    },
  };
}
