import { UnrecoverableError } from 'bullmq';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { recordWebhookEvent } from '../../webhooks/outbox.js';
import { urlWithoutSecrets } from '../../webhooks/webhook-event.js';
import { requestBodyOf, skippedAttempt } from '../../webhooks/outbox-relay.js';
import { sendWebhookPayloadSchema, type SendWebhookPayload } from '../../webhooks/send-webhook-payload.js';
import { webhookHeaders } from '../../webhooks/signature.js';
import { signingSecretsOf } from '../../webhooks/subscription-secret.js';
import type { WebhookRuntime } from '../../webhooks/webhook-runtime.js';
import { isDatabaseUnavailable } from '../../db/db-errors.js';
import { DependencyUnavailableError } from '../errors.js';
import { makeJob } from '../make-job.js';
import type { JobContext } from '../types.js';

export type { SendWebhookPayload } from '../../webhooks/send-webhook-payload.js';

/** Failures no retry can fix: the URL itself is refused. */
const PERMANENT = new Set(['blocked_address', 'invalid_url']);

/**
 * Delivers one event to one subscription (seed): signs the JSON body (RSA, SPEC §8, and the
 * subscription's Standard Webhooks HMAC, SPEC §18), POSTs it with a 5 s
 * budget, records one `webhook_event` row per attempt, and runs the circuit breaker. A failure
 * throws, so BullMQ retries with exponential backoff and jitter (8 tries by default).
 */
export const sendWebhook = makeJob<SendWebhookPayload>(
  (ctx, input) => deliver(ctx, input).catch((err: unknown) => {
    // Postgres down: the subscription cannot be read nor the attempt written. Waiting costs no
    // attempt, so an outage longer than the retry budget does not drop the delivery.
    if (isDatabaseUnavailable(err)) throw new DependencyUnavailableError('database', err);
    throw err;
  }),
  // Internal: only the outbox relay and the replay routes enqueue it, so no API caller can make the
  // system sign a delivery of their own making (SPEC §14).
  { schema: sendWebhookPayloadSchema, attempts: 8, backoffMs: 2_000, backoffJitter: 0.5, internal: true },
);

/** One delivery attempt: load, sign, POST, record, run the breaker. */
async function deliver(ctx: JobContext, input: SendWebhookPayload): Promise<unknown> {
  const { db, webhooks } = servicesOf(ctx);
  const payload: SendWebhookPayload = {
    ...input,
    resource: input.resource ?? 'event',
    webhookId: input.webhookId ?? `job_${ctx.jobId}`,
    occurredAt: input.occurredAt ?? ctx.enqueuedAt.toISOString(),
  };
  const subscription = await db.selectFrom('webhook_subscription').selectAll().where('id', '=', payload.subscriptionId).executeTakeFirst();
  if (!subscription) {
    ctx.log.warn({ subscriptionId: payload.subscriptionId }, 'subscription no longer exists: delivery dropped');
    return { outcome: 'dropped' };
  }
  if (!subscription.enabled) {
    await db.insertInto('webhook_event').values(skippedAttempt(payload, ctx.jobId, ctx.attempt)).execute();
    webhooks.metrics.attempt('skipped');
    return { outcome: 'skipped' };
  }

  const body = requestBodyOf(payload);
  const raw = JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000);
  // Decrypted only here, for this request's headers: never logged, never stored in the attempt row.
  const secrets = await signingSecretsOf(db, webhooks.secretBox, subscription);
  const headers = await webhookHeaders({ webhookId: payload.webhookId!, timestamp, body: raw, keys: webhooks.signingKeys, secrets });
  const result = await webhooks.http.post(subscription.url, raw, headers);
  await db
    .insertInto('webhook_event')
    .values({
      subscription_id: subscription.id,
      webhook_id: payload.webhookId!,
      job_id: ctx.jobId,
      attempt: ctx.attempt,
      action: payload.action,
      resource: payload.resource!,
      resource_id: payload.resourceId,
      request_body: body,
      response_status: result.status,
      response_body: result.responseBody,
      error: result.error,
      duration_ms: result.durationMs,
      success: result.ok,
    })
    .execute();
  webhooks.metrics.attempt(result.ok ? 'delivered' : (result.error ?? 'failed'));

  if (result.ok) {
    if (subscription.consecutive_failures > 0) {
      await db.updateTable('webhook_subscription').set({ consecutive_failures: 0 }).where('id', '=', subscription.id).execute();
    }
    return { outcome: 'delivered', status: result.status };
  }

  const tripped = await countFailure(db, subscription.id, webhooks.failureThreshold, result.error ?? 'failed');
  if (tripped) {
    webhooks.metrics.breakerTrip();
    // This line is also mirrored into the job's log (BullBoard): the URL without its path secrets.
    ctx.log.warn({ subscriptionId: subscription.id, url: urlWithoutSecrets(subscription.url), reason: tripped }, 'circuit breaker: subscription disabled');
    await webhooks.relay().catch((err: unknown) => ctx.log.warn({ err }, 'relay after breaker trip failed; the scheduler will relay'));
  }
  const message = `delivery failed: ${result.error}${result.status ? ` (HTTP ${result.status})` : ''}`;
  if (PERMANENT.has(result.error ?? '')) throw new UnrecoverableError(message);
  throw new Error(message);
}

/**
 * Counts a failed attempt; at the threshold disables the subscription and writes a
 * `webhookSubscription.disabled` event to the outbox, in one transaction. Returns the reason when
 * this attempt tripped the breaker.
 */
async function countFailure(db: Kysely<Database>, subscriptionId: string, threshold: number, error: string): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('webhook_subscription')
      .set({ consecutive_failures: sql`consecutive_failures + 1` })
      .where('id', '=', subscriptionId)
      .returning(['consecutive_failures', 'enabled', 'url'])
      .executeTakeFirst();
    if (!row || !row.enabled || row.consecutive_failures < threshold) return undefined;
    const reason = `${row.consecutive_failures} consecutive failed attempts (last: ${error})`;
    await trx
      .updateTable('webhook_subscription')
      .set({ enabled: false, disabled_at: sql`now()`, disabled_reason: reason, updated_at: sql`now()` })
      .where('id', '=', subscriptionId)
      .execute();
    await recordWebhookEvent(trx, { resource: 'webhookSubscription', action: 'disabled', resourceId: subscriptionId, data: { id: subscriptionId, url: urlWithoutSecrets(row.url), reason } });
    return reason;
  });
}

function servicesOf(ctx: JobContext): { db: Kysely<Database>; webhooks: WebhookRuntime } {
  const { db, webhooks } = ctx.services;
  // A worker without them is misconfigured; retrying cannot help.
  if (!db || !webhooks) throw new UnrecoverableError('sendWebhook needs ctx.services.db and ctx.services.webhooks (the worker service provides them)');
  return { db, webhooks };
}
