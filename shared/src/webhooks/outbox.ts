import type { Kysely, Transaction } from 'kysely';
import type { Database, JsonObject } from '../db/schema.js';
import { carrierOf } from '../tracing/trace-carrier.js';
import { newWebhookId, type ResourceEvent } from './webhook-event.js';

/** An outbox row just written: its id (the relay's job ids use it) and the event id receivers see. */
export interface RecordedWebhookEvent {
  outboxId: string;
  /** `X-Webhook-Id` of every delivery of this event: random, see `newWebhookId`. */
  webhookId: string;
}

/**
 * Writes `event` to the outbox inside the caller's transaction, so a committed mutation always
 * has its deliveries (they are relayed to the queue after commit, or later by the scheduler).
 * Returns the outbox id and the event's random id. The row keeps the active trace context (the
 * API request's), so the deliveries join the mutation's trace whoever relays them (SPEC §15).
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   const row = await insertCronJob(trx, values);
 *   await recordWebhookEvent(trx, { resource: 'cronJob', action: 'create', resourceId: row.id, data: view(row) });
 * });
 */
export async function recordWebhookEvent(trx: Transaction<Database> | Kysely<Database>, event: ResourceEvent): Promise<RecordedWebhookEvent> {
  const webhookId = newWebhookId();
  const trace = carrierOf();
  const row = await trx
    .insertInto('webhook_outbox')
    .values({ resource: event.resource, action: event.action, resource_id: event.resourceId, data: JSON.parse(JSON.stringify(event.data)) as JsonObject, webhook_id: webhookId, ...(trace ? { trace_context: { ...trace } } : {}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { outboxId: row.id, webhookId };
}
