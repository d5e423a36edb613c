import { QueueUnavailableError } from '@jobs/shared';
import { relayOutbox, type RelayResult } from '@jobs/shared/webhooks';
import { isDatabaseUnavailable } from '@jobs/shared/db';
import type { Logger } from '@jobs/shared/logger';
import type { AppDeps } from '../app-env.js';

/**
 * Hands the outbox to the queue right after a mutation commits, so subscribers hear of it at
 * once (SPEC §8). Never throws: the mutation is committed and its outbox row is safe, so when
 * Redis (or the database) is unreachable a warning is logged, the request still succeeds, and
 * the scheduler's relay pass delivers later. Runs on `deps.db` outside any transaction (PGlite
 * has a single connection: calling it inside an open transaction would wait on itself).
 * Returns what was relayed, or undefined when nothing could be.
 *
 * @example
 * const row = await deps.db.transaction().execute(async (trx) => { …; await recordWebhookEvent(trx, event); return row; });
 * await relayAfterCommit(deps, log);
 */
export async function relayAfterCommit(deps: Pick<AppDeps, 'db' | 'jobs'>, log: Logger): Promise<RelayResult | undefined> {
  try {
    const result = await relayOutbox(deps.db, (payload, options) => deps.jobs.enqueueJob('sendWebhook', payload, options));
    if (result.relayed > 0) log.debug({ relayed: result.relayed, enqueued: result.enqueued, skipped: result.skipped }, 'webhook outbox relayed');
    for (const f of result.failed) log.error(f, 'outbox row cannot be delivered (invalid data): dropped');
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof QueueUnavailableError || isDatabaseUnavailable(err)) {
      log.warn({ err: { message } }, 'webhook outbox not relayed now (Redis or the database is unreachable); the scheduler will relay it');
    } else {
      log.error({ err }, 'webhook outbox relay failed; the scheduler will retry it');
    }
    return undefined;
  }
}
