import { closeRedis, createRedis, scopedLogger, startHealthServer, type Config, type HealthServer, type Logger } from '@jobs/shared';

export interface SchedulerService {
  close(): Promise<void>;
}

/**
 * The scheduler service. For now only a placeholder that stays up with its health endpoints, so
 * deployments and probes can be wired before cron sync exists.
 * `healthPort`: default `config.schedulerPort`; `false` starts no health server (all-in-one local run).
 *
 * @example
 * const scheduler = await startSchedulerService(config, log);
 * process.on('SIGTERM', () => scheduler.close());
 */
export async function startSchedulerService(config: Config, parentLog: Logger, options: { healthPort?: number | false } = {}): Promise<SchedulerService> {
  const log = scopedLogger(parentLog, 'scheduler');
  const redis = createRedis(config.redisUrl, 'producer');
  const healthPort = options.healthPort ?? config.schedulerPort;
  let health: HealthServer | undefined;
  try {
    health = healthPort === false ? undefined : await startHealthServer(healthPort, { redis: () => redis.ping() });
  } catch (err) {
    await closeRedis(redis);
    throw err;
  }
  log.info({ healthPort: health?.port }, 'scheduler started; cron sync is not implemented yet, so no cron jobs will fire');
  return {
    async close() {
      await health?.close();
      await closeRedis(redis);
    },
  };
}
