import type { Logger } from '@jobs/shared/logger';
import type { RedisKeys } from '@jobs/shared/redis';
import { publishCronChanged, type CronChange } from '@jobs/shared/cron';
import type { Redis } from 'ioredis';

/** A Redis that accepts the connection but does not answer must not hold a committed response. */
const NOTIFY_TIMEOUT_MS = 1_000;

/**
 * Tells the scheduler a committed change happened (SPEC §5: it syncs within a second). Never
 * throws: when Redis is unreachable the change stays committed, a warning is logged, and the
 * scheduler's periodic pass picks it up.
 *
 * @example
 * await notifyScheduler(deps, { cronJobId: row.id, op: 'create', jobId: row.job_id }, log);
 */
export async function notifyScheduler(deps: { redis: Redis; keys: RedisKeys }, change: CronChange, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), NOTIFY_TIMEOUT_MS);
  });
  const sent = await Promise.race([publishCronChanged(deps.redis, deps.keys, change), timeout]);
  clearTimeout(timer);
  if (!sent) {
    log.warn({ cronJobId: change.cronJobId, op: change.op }, 'scheduler not notified of the cron change (Redis unreachable); its periodic pass will pick it up');
  }
}
