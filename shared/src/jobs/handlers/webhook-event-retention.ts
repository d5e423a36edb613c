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
    /** Rows per delete statement: small batches keep locks and WAL bursts short. */
    batchSize: z.number().int().min(100).max(100_000).optional(),
  })
  .strict();
export type WebhookEventRetentionPayload = z.infer<typeof webhookEventRetentionPayloadSchema>;

/**
 * Deletes old `webhook_event` rows in batches. A singleton, so two runs (a cron tick and a manual
 * trigger) never delete side by side. Schedule it with a cron row, e.g.
 * `{"name":"webhook retention","pattern":"17 3 * * *","handler":"webhookEventRetention"}`.
 */
export const webhookEventRetention = makeSingletonJob<WebhookEventRetentionPayload>(
  (ctx, payload) =>
    deleteOldAttempts(ctx, payload).catch((err: unknown) => {
      if (isDatabaseUnavailable(err)) throw new DependencyUnavailableError('database', err);
      throw err;
    }),
  { schema: webhookEventRetentionPayloadSchema, attempts: 3 },
);

/** Deletes attempt rows older than the retention, a batch per statement. */
async function deleteOldAttempts(ctx: JobContext, payload: WebhookEventRetentionPayload): Promise<{ deleted: number; olderThanDays: number }> {
  const db = ctx.services.db;
  if (!db) throw new Error('webhookEventRetention needs ctx.services.db');
  const days = payload.olderThanDays ?? ctx.services.webhooks?.eventRetentionDays ?? 30;
  const batch = payload.batchSize ?? 5_000;
  let deleted = 0;
  for (;;) {
    if (ctx.signal.aborted) break;
    const result = await sql<{ count: string }>`
      with doomed as (
        select id from webhook_event where created_at < now() - make_interval(days => ${days}) limit ${batch}
      )
      delete from webhook_event where id in (select id from doomed)`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    deleted += n;
    if (n < batch) break;
  }
  ctx.log.info({ deleted, olderThanDays: days }, 'webhook attempt rows deleted');
  return { deleted, olderThanDays: days };
}
