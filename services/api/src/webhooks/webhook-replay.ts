import { JobOptionsError, JobPayloadError, UnknownHandlerError } from '@jobs/shared';
import type { SendWebhookPayload } from '@jobs/shared/webhooks';
import type { JsonObject, WebhookEvent } from '@jobs/shared/db';
import type { CommandContext } from '../cron/cron-job-commands.js';
import type { KeysetPosition } from '../cron/pagination.js';
import { ApiProblem } from '../problem.js';
import { findEventRow, listPendingSkippedRows } from './webhook-event-repository.js';
import { subscriptionNotFound } from './webhook-subscription-commands.js';
import { findSubscriptionRow } from './webhook-subscription-repository.js';

/** Skipped rows read per query; a replay walks all of them, a page at a time. */
const PAGE = 200;

/** Job states after which a job id is free to be used again (once the job is removed). */
const FINISHED = new Set<string>(['completed', 'failed', 'superseded', 'cancelled', 'unknown']);

/** The job id of the replay of one skipped row: replaying twice adds nothing the second time. */
export const skippedReplayJobId = (rowId: string): string => `wh-replay-${rowId}`;

/**
 * Delivers the event of one attempt row again to its subscription: a new `sendWebhook` job with
 * the same `webhookId` (receivers dedupe on it), resource, action, resource id, `data` and
 * `occurredAt`. 404 for an unknown row; 409 while the subscription is disabled.
 *
 * @example
 * const { jobId } = await replayEvent(ctx, attemptId);
 */
export async function replayEvent(ctx: CommandContext, id: string): Promise<{ jobId: string }> {
  const row = await findEventRow(ctx.deps.db, id);
  if (!row) throw new ApiProblem(404, { detail: `no webhook event ${id}` });
  const subscription = await findSubscriptionRow(ctx.deps.db, row.subscription_id);
  if (!subscription) throw new ApiProblem(404, { detail: `no webhook event ${id}` }); // deleted meanwhile (the cascade follows)
  if (!subscription.enabled) throw disabled(subscription.id);
  const jobId = await enqueueReplay(ctx, row);
  ctx.log.info({ actor: ctx.actor, eventId: row.id, webhookId: row.webhook_id, subscriptionId: subscription.id, jobId }, 'webhook event replayed');
  return { jobId };
}

/**
 * Sends what a subscription skipped while it was disabled: one `sendWebhook` job per event that
 * has a `skipped` row and no real attempt since (see `listPendingSkippedRows`), with the job id
 * {@link skippedReplayJobId} of that row, so a second call while those jobs wait adds nothing.
 * Returns how many jobs were added. 404 for an unknown subscription; 409 while it is disabled.
 *
 * @example
 * const { enqueued } = await replaySkipped(ctx, subscriptionId);
 */
export async function replaySkipped(ctx: CommandContext, subscriptionId: string): Promise<{ enqueued: number }> {
  const subscription = await findSubscriptionRow(ctx.deps.db, subscriptionId);
  if (!subscription) throw subscriptionNotFound(subscriptionId);
  if (!subscription.enabled) throw disabled(subscription.id);
  let enqueued = 0;
  let after: KeysetPosition | undefined;
  for (;;) {
    const rows = await listPendingSkippedRows(ctx.deps.db, subscription.id, { limit: PAGE, ...(after ? { after } : {}) });
    for (const row of rows) {
      const jobId = skippedReplayJobId(row.id);
      const existing = await ctx.deps.jobs.getJob(jobId);
      // An earlier replay whose attempt has not been recorded yet: it is on its way.
      if (existing && !FINISHED.has(existing.state)) continue;
      // Finished without recording an attempt (cancelled, or failed before it could): BullMQ keeps
      // a finished job's id taken, so it must go before the replay can be added again.
      if (existing) await ctx.deps.jobs.queue.remove(jobId);
      await enqueueReplay(ctx, row, jobId);
      enqueued++;
    }
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) break;
    after = { createdAt: last.position_created_at, id: last.id };
  }
  ctx.log.info({ actor: ctx.actor, subscriptionId: subscription.id, enqueued }, 'skipped webhook events replayed');
  return { enqueued };
}

/** The delivery an attempt row describes, rebuilt from its columns and stored request body. */
export function replayPayload(row: Pick<WebhookEvent, 'subscription_id' | 'webhook_id' | 'action' | 'resource' | 'resource_id' | 'request_body'>): SendWebhookPayload {
  const body: JsonObject = row.request_body ?? {};
  const data = body.data;
  const occurredAt = typeof body.occurredAt === 'string' && !Number.isNaN(Date.parse(body.occurredAt)) ? new Date(body.occurredAt).toISOString() : undefined;
  return {
    subscriptionId: row.subscription_id,
    action: row.action,
    resource: row.resource,
    resourceId: row.resource_id,
    data: typeof data === 'object' && data !== null && !Array.isArray(data) ? data : {},
    webhookId: row.webhook_id,
    ...(occurredAt ? { occurredAt } : {}),
  };
}

async function enqueueReplay(ctx: CommandContext, row: Parameters<typeof replayPayload>[0] & { id: string }, jobId?: string): Promise<string> {
  try {
    return await ctx.deps.jobs.enqueueJob('sendWebhook', replayPayload(row), jobId ? { jobId } : {});
  } catch (err) {
    // Only a row edited behind the API's back can get here (the API never stores such a delivery).
    if (err instanceof UnknownHandlerError || err instanceof JobPayloadError || err instanceof JobOptionsError) {
      throw new ApiProblem(409, { detail: `webhook event ${row.id} cannot be replayed as stored: ${err.message}` });
    }
    throw err;
  }
}

function disabled(subscriptionId: string): ApiProblem {
  return new ApiProblem(409, {
    detail: `webhook subscription ${subscriptionId} is disabled; re-enable it first (PATCH /api/admin/webhookSubscription/${subscriptionId} with {"enabled": true})`,
  });
}
