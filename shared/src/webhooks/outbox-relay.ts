import { context } from '@opentelemetry/api';
import { sql, type Kysely } from 'kysely';
import type { Database, JsonObject } from '../db/schema.js';
import { JobOptionsError, JobPayloadError } from '../jobs/errors.js';
import type { EnqueueOptions } from '../jobs/types.js';
import type { SendWebhookPayload } from './send-webhook-payload.js';
import { contextOf } from '../tracing/trace-carrier.js';
import { patternsMatching } from './webhook-event.js';

export type EnqueueSendWebhook = (payload: SendWebhookPayload, options: EnqueueOptions) => Promise<string>;

export interface RelayResult {
  /** Outbox rows handed over. */
  relayed: number;
  /** `sendWebhook` jobs enqueued (enabled subscriptions). */
  enqueued: number;
  /** Deliveries recorded as skipped (disabled subscriptions). */
  skipped: number;
  /**
   * Deliveries that can never be enqueued (the row's data fails the `sendWebhook` payload
   * schema): dropped and reported, so one bad row cannot stall the outbox forever.
   */
  failed: { outboxId: string; subscriptionId: string; error: string }[];
}

/** The job of one event for one subscription: a relay repeated after a crash adds nothing. */
export const deliveryJobId = (outboxId: string, subscriptionId: string): string => `wh-${outboxId}-${subscriptionId}`;

/**
 * Moves pending outbox rows to the queue: one `sendWebhook` job per enabled matching
 * subscription (job id from row and subscription, so it is idempotent), and a `skipped` attempt
 * row for each disabled one (replayable once re-enabled). Rows are locked with SKIP LOCKED, so
 * the API and any number of scheduler replicas may relay at once. If the queue is down, the
 * transaction rolls back and the rows wait for the next pass.
 */
export async function relayOutbox(db: Kysely<Database>, enqueue: EnqueueSendWebhook, options: { batch?: number } = {}): Promise<RelayResult> {
  const result: RelayResult = { relayed: 0, enqueued: 0, skipped: 0, failed: [] };
  await db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('webhook_outbox')
      .selectAll()
      .where('relayed_at', 'is', null)
      .orderBy('id')
      .limit(options.batch ?? 100)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const row of rows) {
      const subscriptions = await trx
        .selectFrom('webhook_subscription')
        .select(['id', 'enabled'])
        .where(sql<boolean>`events && ${sql.val(patternsMatching(row.resource, row.action))}::text[]`)
        .execute();
      const payloadOf = (subscriptionId: string): SendWebhookPayload => ({
        subscriptionId,
        action: row.action,
        resource: row.resource,
        resourceId: row.resource_id,
        data: row.data,
        webhookId: row.webhook_id,
        occurredAt: new Date(row.occurred_at).toISOString(),
      });
      // The deliveries' enqueue (producer span) belongs to the trace of the mutation that wrote the row.
      const send = (payload: SendWebhookPayload, options: EnqueueOptions) =>
        row.trace_context ? context.with(contextOf(row.trace_context), () => enqueue(payload, options)) : enqueue(payload, options);
      for (const sub of subscriptions) {
        if (sub.enabled) {
          try {
            await send(payloadOf(sub.id), { jobId: deliveryJobId(row.id, sub.id) });
            result.enqueued++;
          } catch (err) {
            // The queue being down rolls the whole pass back, to be retried; bad data never will succeed.
            if (!(err instanceof JobPayloadError || err instanceof JobOptionsError)) throw err;
            result.failed.push({ outboxId: row.id, subscriptionId: sub.id, error: err.message });
          }
        } else {
          await trx.insertInto('webhook_event').values(skippedAttempt(payloadOf(sub.id))).execute();
          result.skipped++;
        }
      }
      await trx.updateTable('webhook_outbox').set({ relayed_at: sql`now()` }).where('id', '=', row.id).execute();
      result.relayed++;
    }
  });
  return result;
}

/** A delivery that was not sent because its subscription is disabled. */
export function skippedAttempt(payload: SendWebhookPayload, jobId: string | null = null, attempt = 0) {
  return {
    subscription_id: payload.subscriptionId,
    webhook_id: payload.webhookId ?? 'unknown',
    job_id: jobId,
    attempt,
    action: payload.action,
    resource: payload.resource ?? 'event',
    resource_id: payload.resourceId,
    request_body: requestBodyOf(payload),
    response_status: null,
    response_body: null,
    error: 'skipped',
    duration_ms: null,
    success: false,
  };
}

/** The JSON body POSTed to receivers (SPEC §8). */
export function requestBodyOf(payload: SendWebhookPayload): JsonObject {
  const resource = payload.resource ?? 'event';
  return JSON.parse(
    JSON.stringify({
      id: payload.webhookId,
      type: `${resource}.${payload.action}`,
      resource,
      action: payload.action,
      resourceId: payload.resourceId,
      occurredAt: payload.occurredAt,
      data: payload.data,
    }),
  ) as JsonObject;
}
