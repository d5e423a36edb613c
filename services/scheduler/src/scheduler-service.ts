import { createJobClient, jobHandlers } from '@jobs/shared';
import { startOutboxRelay } from '@jobs/shared/webhooks';
import type { DatabaseHandle } from '@jobs/shared/db';
import type { Config } from '@jobs/shared/config';
import { scopedLogger, type Logger } from '@jobs/shared/logger';
import { closeRedis, createRedis } from '@jobs/shared/redis';
import { startHealthServer, type HealthServer } from '@jobs/shared/process';
import { createMetricsRegistry, type Registry } from '@jobs/shared/metrics';
import { builtinSchedulesWith, startCronScheduler, type LeaderLockTimings } from '@jobs/shared/scheduler';

export interface SchedulerServiceOptions {
  /** Where the `cron_job` rows are; the caller opens and closes it. */
  db: DatabaseHandle['db'];
  /** Health and metrics port (default `config.schedulerPort`); `false` starts no server (all-in-one local run). */
  healthPort?: number | false;
  /** Leader lock timings (defaults: TTL 10 s, renew 3 s, standby retry 2 s). */
  leader?: LeaderLockTimings;
  /** How often the webhook outbox is relayed (default 1 s). */
  relayIntervalMs?: number;
  /** Where its metrics go (default: a registry of its own with Node's process metrics, served on its health port). */
  metrics?: Registry;
}

export interface SchedulerService {
  /** The health server's port, when one was started. */
  readonly healthPort: number | undefined;
  readonly isLeader: boolean;
  /** Stops syncing, releases the leader lock (a standby takes over at once), closes connections. */
  close(): Promise<void>;
}

/**
 * The scheduler service: syncs the `cron_job` rows into BullMQ job schedulers while it is the
 * leader (SPEC §5) along with the built-in schedules (SPEC §14), relays the webhook outbox (every replica; SKIP LOCKED keeps them apart), with `/healthz`, `/readyz` (Redis and database) and `/metrics`
 * (`scheduler_is_leader`, `scheduler_last_pass_timestamp_seconds`, `scheduler_rows{outcome}`, …)
 * on `SCHEDULER_PORT`.
 *
 * @example
 * const scheduler = await startSchedulerService(config, log, { db });
 * process.on('SIGTERM', () => scheduler.close());
 */
export async function startSchedulerService(config: Config, log: Logger, options: SchedulerServiceOptions): Promise<SchedulerService> {
  const { db } = options;
  const metrics = options.metrics ?? createMetricsRegistry('scheduler');
  const probe = createRedis(config.redisUrl, 'producer');
  const scheduler = startCronScheduler({
    db,
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    queueName: config.queueName,
    reconcileMs: config.scheduler.reconcileMs,
    leader: options.leader,
    logger: log,
    metrics,
    // Retention runs daily without a cron row (SPEC §14); WEBHOOK_EVENT_RETENTION_SCHEDULE moves or turns it off.
    builtinSchedules: builtinSchedulesWith({ webhookEventRetention: config.webhook.eventRetentionSchedule }),
  });
  // The webhook outbox's safety net: whatever the API could not relay right after commit.
  const jobs = createJobClient({ handlers: jobHandlers, connection: probe, prefix: config.queuePrefix, queueName: config.queueName, workerLockDurationMs: config.worker.lockDurationMs });
  const relay = startOutboxRelay({
    db,
    enqueue: (payload, opts) => jobs.enqueueJob('sendWebhook', payload, opts),
    log: scopedLogger(log, 'scheduler'),
    intervalMs: options.relayIntervalMs,
  });
  const healthPort = options.healthPort ?? config.schedulerPort;
  let health: HealthServer | undefined;
  try {
    health =
      healthPort === false
        ? undefined
        : await startHealthServer(
            healthPort,
            { redis: () => probe.ping(), db: () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute() },
            { metrics },
          );
  } catch (err) {
    await relay.close();
    await scheduler.close();
    await jobs.close();
    await closeRedis(probe);
    throw err;
  }
  scopedLogger(log, 'scheduler').info(
    { queue: config.queueName, prefix: config.queuePrefix, reconcileMs: config.scheduler.reconcileMs, healthPort: health?.port },
    'scheduler started: waiting for leadership',
  );
  let closing: Promise<void> | undefined;
  return {
    healthPort: health?.port,
    get isLeader() {
      return scheduler.isLeader;
    },
    close: () =>
      (closing ??= (async () => {
        await relay.close();
        await scheduler.close();
        await health?.close();
        await jobs.close();
        await closeRedis(probe);
      })()),
  };
}
