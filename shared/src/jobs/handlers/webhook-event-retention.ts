import { sql } from 'kysely';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../../db/db-errors.js';
import { DependencyUnavailableError } from '../errors.js';
import { makeSingletonJob } from '../make-job.js';
import type { JobContext } from '../types.js';

export const webhookEventRetentionPayloadSchema = z
  .object({
    /** Delete attempt rows older than this; default `WEBHOOK_EVENT_RETENTION_DAYS` (30). */
    olderThanDays: z.number().int().min(1).max(3650).optional(),
    /** Rows per delete statement (attempt rows, then outbox rows): small batches keep locks and WAL bursts short. */
    batchSize: z.number().int().min(100).max(100_000).optional(),
  })
  .strict();
export type WebhookEventRetentionPayload = z.infer<typeof webhookEventRetentionPayloadSchema>;

/** How long a relayed outbox row is kept: long enough to look into a relay, short enough to stay small. */
export const RELAYED_OUTBOX_RETENTION_HOURS = 24;

export interface WebhookEventRetentionResult {
  /** `webhook_event` (attempt) rows deleted. */
  deleted: number;
  olderThanDays: number;
  /** `webhook_outbox` rows deleted: relayed more than a day ago. */
  outboxDeleted: number;
}

/**
 * Keeps the webhook tables bounded (SPEC §14): deletes `webhook_event` attempt rows older than
 * the retention and `webhook_outbox` rows relayed more than a day ago (rows not yet relayed are
 * never touched), in batches. Internal: the scheduler runs it daily as the built-in schedule
 * `builtin:webhookEventRetention` (`WEBHOOK_EVENT_RETENTION_SCHEDULE`), no cron row needed. A
 * singleton, so two runs never delete side by side.
 */
export const webhookEventRetention = makeSingletonJob<WebhookEventRetentionPayload>(
  (ctx, payload) =>
    prune(ctx, payload).catch((err: unknown) => {
      if (isDatabaseUnavailable(err)) throw new DependencyUnavailableError('database', err);
      throw err;
    }),
  { schema: webhookEventRetentionPayloadSchema, attempts: 3, internal: true },
);

async function prune(ctx: JobContext, payload: WebhookEventRetentionPayload): Promise<WebhookEventRetentionResult> {
  const db = ctx.services.db;
  if (!db) throw new Error('webhookEventRetention needs ctx.services.db');
  const days = payload.olderThanDays ?? ctx.services.webhooks?.eventRetentionDays ?? 30;
  const batch = payload.batchSize ?? 5_000;
  const deleted = await inBatches(ctx, batch, () =>
    sql`
      with doomed as (
        select id from webhook_event where created_at < now() - make_interval(days => ${days}) limit ${batch}
      )
      delete from webhook_event where id in (select id from doomed)`.execute(db),
  );
  const outboxDeleted = await inBatches(ctx, batch, () =>
    sql`
      with doomed as (
        select id from webhook_outbox
        where relayed_at is not null and relayed_at < now() - make_interval(hours => ${RELAYED_OUTBOX_RETENTION_HOURS})
        limit ${batch}
      )
      delete from webhook_outbox where id in (select id from doomed)`.execute(db),
  );
  ctx.log.info({ deleted, olderThanDays: days, outboxDeleted }, 'webhook attempt rows and relayed outbox rows deleted');
  return { deleted, olderThanDays: days, outboxDeleted };
}

/** Runs one delete statement of at most `batch` rows until one deletes fewer (or the run is aborted): short locks, small WAL bursts. */
async function inBatches(ctx: JobContext, batch: number, deleteBatch: () => Promise<{ numAffectedRows?: bigint }>): Promise<number> {
  let deleted = 0;
  for (;;) {
    if (ctx.signal.aborted) break;
    const n = Number((await deleteBatch()).numAffectedRows ?? 0n);
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}
