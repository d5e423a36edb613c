import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { ensureSubscriptionSecret, generateSubscriptionSecret, recordWebhookEvent, rotateSubscriptionSecret, SecretDecryptError, urlWithoutSecrets } from '@jobs/shared/webhooks';
import type { WebhookSubscription, WebhookSubscriptionUpdate } from '@jobs/shared/db';
import type { CommandContext } from '../cron/cron-job-commands.js';
import { ApiProblem } from '../problem.js';
import type { CreateSubscriptionBody, UpdateSubscriptionBody } from '../schemas/webhook-schemas.js';
import { isUuid } from '../cron/uuid.js';
import { relayAfterCommit } from './relay-after-commit.js';
import { checkUrlScheme } from './webhook-url.js';
import { deleteSubscriptionRow, findSubscriptionRow, insertSubscriptionRow, updateSubscriptionRow } from './webhook-subscription-repository.js';
import { toSubscriptionView } from './webhook-views.js';

export type CreateSubscriptionInput = z.output<typeof CreateSubscriptionBody>;
export type UpdateSubscriptionInput = z.output<typeof UpdateSubscriptionBody>;

const RESOURCE = 'webhookSubscription';

export const subscriptionNotFound = (id: string) => new ApiProblem(404, { detail: `no webhook subscription ${id}` });

/** Why an admin turned a subscription off (the breaker writes its own reason). */
// Console actors are `console:<user>` (or `console:local` when it is open without sign-in).
const disabledBy = (actor: string) => (actor.startsWith('console:') ? `disabled in the console by ${actor.slice('console:'.length)}` : `disabled through the API by ${actor}`);

/**
 * Creates a subscription with a new Standard Webhooks secret (stored encrypted) and, in the same
 * transaction, its `webhookSubscription.create` event (without the secret); relays after commit.
 * Returns the row and the secret in clear, to be shown this once. 400 (naming `body.url`) for
 * plain http outside local/test.
 *
 * @example
 * const { row, secret } = await createSubscription(ctx, { url: 'https://example.com/hook', events: ['cronJob.*'], enabled: true });
 */
export async function createSubscription(ctx: CommandContext, input: CreateSubscriptionInput): Promise<{ row: WebhookSubscription; secret: string }> {
  checkUrlScheme(ctx.deps.config, input.url);
  // The id is drawn here, not by the database: the ciphertext is bound to it.
  const id = randomUUID();
  const secret = generateSubscriptionSecret();
  const row = await ctx.deps.db.transaction().execute(async (trx) => {
    const created = await insertSubscriptionRow(trx, {
      id,
      secret_ciphertext: ctx.deps.webhookSecrets.encrypt(secret, id),
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
  return { row, secret };
}

/**
 * The subscription's Standard Webhooks secret in clear (a row from before migration 0003 gets
 * one now). 404 when there is no such subscription; 409 when the stored secret was encrypted under
 * another `WEBHOOK_SECRET_KEY`.
 *
 * @example
 * const secret = await readSubscriptionSecret(ctx, id);
 */
export async function readSubscriptionSecret(ctx: CommandContext, id: string): Promise<string> {
  let secret: string | undefined;
  try {
    secret = isUuid(id) ? await ensureSubscriptionSecret(ctx.deps.db, ctx.deps.webhookSecrets, id) : undefined;
  } catch (err) {
    if (!(err instanceof SecretDecryptError)) throw err;
    // The key changed under the stored secret: a state to fix, not a server fault.
    ctx.log.warn({ subscriptionId: id, err }, 'webhook subscription secret cannot be decrypted');
    throw new ApiProblem(409, { detail: `${err.message}; POST …/${id}/rotateSecret gives the subscription a new secret under the current key` });
  }
  if (secret === undefined) throw subscriptionNotFound(id);
  // Who read it, never what it is.
  ctx.log.info({ actor: ctx.actor, subscriptionId: id }, 'webhook subscription secret read');
  return secret;
}

/**
 * Replaces the secret; deliveries are signed with the new and the previous one for 24 h, so
 * receivers can switch without dropping any (`previousSecretExpiresAt` null: there was no usable
 * previous one). 404 when there is no such subscription.
 *
 * @example
 * const { secret, previousSecretExpiresAt } = await rotateSecret(ctx, id);
 */
export async function rotateSecret(ctx: CommandContext, id: string): Promise<{ secret: string; previousSecretExpiresAt: Date | null }> {
  const rotated = isUuid(id) ? await ctx.deps.db.transaction().execute((trx) => rotateSubscriptionSecret(trx, ctx.deps.webhookSecrets, id)) : undefined;
  if (!rotated) throw subscriptionNotFound(id);
  ctx.log.info({ actor: ctx.actor, subscriptionId: id, previousSecretExpiresAt: rotated.previousSecretExpiresAt }, 'webhook subscription secret rotated');
  return rotated;
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
