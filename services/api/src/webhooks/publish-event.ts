import { recordWebhookEvent, type ResourceEvent } from '@jobs/shared/webhooks';
import type { CommandContext } from '../cron/cron-job-commands.js';
import { relayAfterCommit } from './relay-after-commit.js';

/**
 * Publishes another service's change to the subscribers (SPEC §7 `POST /api/admin/event`): the
 * event is written to the outbox (committed on its own), then relayed. Once written it is never
 * lost: with Redis down the relay waits for the scheduler. Returns the event id receivers see as
 * `X-Webhook-Id`.
 *
 * @example
 * const { id } = await publishEvent(ctx, { resource: 'invoice', action: 'paid', resourceId: 'inv_1', data: { total: 42 } });
 */
export async function publishEvent(ctx: CommandContext, event: ResourceEvent): Promise<{ id: string }> {
  const { webhookId: id } = await recordWebhookEvent(ctx.deps.db, event);
  ctx.log.info({ actor: ctx.actor, eventId: id, type: `${event.resource}.${event.action}`, resourceId: event.resourceId }, 'event published');
  await relayAfterCommit(ctx.deps, ctx.log);
  return { id };
}
