import type { z } from '@hono/zod-openapi';
import { recordWebhookEvent, urlWithoutSecrets, type WebhookSubscription, type WebhookSubscriptionUpdate } from '@jobs/shared';
import type { CommandContext } from '../cron/cron-job-commands.js';
import { ApiProblem } from '../problem.js';
import type { CreateSubscriptionBody, UpdateSubscriptionBody } from '../schemas/webhook-schemas.js';
import { relayAfterCommit } from './relay-after-commit.js';
import { checkUrlScheme } from './webhook-url.js';
import { deleteSubscriptionRow, findSubscriptionRow, insertSubscriptionRow, updateSubscriptionRow } from './webhook-subscription-repository.js';
import { toSubscriptionView } from './webhook-views.js';

export type CreateSubscriptionInput = z.output<typeof CreateSubscriptionBody>;
export type UpdateSubscriptionInput = z.output<typeof UpdateSubscriptionBody>;

const RESOURCE = 'webhookSubscription';

export const subscriptionNotFound = (id: string) => new ApiProblem(404, { detail: `no webhook subscription ${id}` });

/** Why an admin turned a subscription off (the breaker writes its own reason). */
const disabledBy = (actor: string) => `disabled through the API by ${actor}`;

/**
 * Creates a subscription and, in the same transaction, its `webhookSubscription.create` event;
 * relays after commit. 400 (naming `body.url`) for plain http outside local/test.
 *
 * @example
 * const row = await createSubscription(ctx, { url: 'https://example.com/hook', events: ['cronJob.*'], enabled: true });
 */
export async function createSubscription(ctx: CommandContext, input: CreateSubscriptionInput): Promise<WebhookSubscription> {
  checkUrlScheme(ctx.deps.config, input.url);
  const row = await ctx.deps.db.transaction().execute(async (trx) => {
    const created = await insertSubscriptionRow(trx, {
      url: input.url,
      events: unique(input.events),
      description: input.description ?? null,
      enabled: input.enabled,
      ...(input.enabled ? {} : { disabled_at: new Date(), disabled_reason: disabledBy(ctx.actor) }),
    });
    await recordWebhookEvent(trx, { resource: RESOURCE, action: 'create', resourceId: created.id, data: eventData(created) });
    return created;
  });
  ctx.log.info({ actor: ctx.actor, subscriptionId: row.id, events: row.events }, 'webhook subscription created');
  await relayAfterCommit(ctx.deps, ctx.log);
  return row;
}

/**
 * Applies a partial update. `enabled: true` on a disabled subscription re-enables it: the failure
 * count is reset and `disabledAt`/`disabledReason` cleared (what it skipped meanwhile can then be
 * sent with `POST …/:id/replay`). `enabled: false` disables it as the breaker would. An empty
 * patch changes nothing and returns the row.
 *
 * @example
 * const row = await updateSubscription(ctx, id, { enabled: true });
 */
export async function updateSubscription(ctx: CommandContext, id: string, patch: UpdateSubscriptionInput): Promise<WebhookSubscription> {
  if (Object.keys(patch).length === 0) {
    const row = await findSubscriptionRow(ctx.deps.db, id);
    if (!row) throw subscriptionNotFound(id);
    return row;
  }
  if (patch.url !== undefined) checkUrlScheme(ctx.deps.config, patch.url);
  const { row, reenabled } = await ctx.deps.db.transaction().execute(async (trx) => {
    // Locked, so a breaker trip cannot interleave with the enabled/disabled bookkeeping.
    const current = await findSubscriptionRow(trx, id, { forUpdate: true });
    if (!current) throw subscriptionNotFound(id);
    const changes = subscriptionChanges(current, patch, ctx.actor);
    const updated = (await updateSubscriptionRow(trx, id, changes))!;
    await recordWebhookEvent(trx, { resource: RESOURCE, action: 'update', resourceId: updated.id, data: eventData(updated) });
    return { row: updated, reenabled: !current.enabled && updated.enabled };
  });
  ctx.log.info({ actor: ctx.actor, subscriptionId: row.id, fields: Object.keys(patch), ...(reenabled ? { reenabled } : {}) }, 'webhook subscription updated');
  await relayAfterCommit(ctx.deps, ctx.log);
  return row;
}

/**
 * Deletes a subscription (its attempt log goes with it) and records `webhookSubscription.delete`;
 * deliveries still queued for it are dropped by the worker.
 *
 * @example
 * await deleteSubscription(ctx, id);
 */
export async function deleteSubscription(ctx: CommandContext, id: string): Promise<void> {
  const row = await ctx.deps.db.transaction().execute(async (trx) => {
    const deleted = await deleteSubscriptionRow(trx, id);
    if (!deleted) throw subscriptionNotFound(id);
    await recordWebhookEvent(trx, { resource: RESOURCE, action: 'delete', resourceId: deleted.id, data: eventData(deleted) });
    return deleted;
  });
  ctx.log.info({ actor: ctx.actor, subscriptionId: row.id }, 'webhook subscription deleted');
  await relayAfterCommit(ctx.deps, ctx.log);
}

/** The columns a patch changes, with the breaker bookkeeping that goes with enabling or disabling. */
function subscriptionChanges(current: WebhookSubscription, patch: UpdateSubscriptionInput, actor: string): WebhookSubscriptionUpdate {
  const changes: WebhookSubscriptionUpdate = {};
  if (patch.url !== undefined) changes.url = patch.url;
  if (patch.events !== undefined) changes.events = unique(patch.events);
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.enabled === true && !current.enabled) {
    Object.assign(changes, { enabled: true, consecutive_failures: 0, disabled_at: null, disabled_reason: null });
  } else if (patch.enabled === false && current.enabled) {
    Object.assign(changes, { enabled: false, disabled_at: new Date(), disabled_reason: disabledBy(actor) });
  }
  return changes;
}

/** Repeated patterns add nothing; the first occurrence keeps its place. */
const unique = (events: readonly string[]): string[] => [...new Set(events)];

/** What other subscribers see of a subscription: its view, without the secrets a URL may carry. */
function eventData(row: WebhookSubscription): Record<string, unknown> {
  const view = toSubscriptionView(row);
  return { ...view, url: urlWithoutSecrets(view.url) };
}
