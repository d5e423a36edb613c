import { sql } from 'kysely';
import type { NewWebhookSubscription, WebhookSubscription, WebhookSubscriptionUpdate } from '@jobs/shared/db';
import type { DbExecutor } from '../cron/cron-job-repository.js';
import { afterPosition, createdAtText, toPage, type KeysetPosition } from '../cron/pagination.js';
import { isUuid } from '../cron/uuid.js';

/**
 * Inserts a subscription and returns it.
 *
 * @example
 * const row = await insertSubscriptionRow(trx, { url: 'https://example.com/hook', events: ['cronJob.*'] });
 */
export function insertSubscriptionRow(db: DbExecutor, values: NewWebhookSubscription): Promise<WebhookSubscription> {
  return db.insertInto('webhook_subscription').values(values).returningAll().executeTakeFirstOrThrow();
}

/**
 * The subscription with this id, or undefined (also for an id that is not a uuid). `forUpdate`
 * locks it until the transaction ends, so a read-merge-write cannot race the circuit breaker.
 *
 * @example
 * const row = await findSubscriptionRow(trx, id, { forUpdate: true });
 */
export async function findSubscriptionRow(db: DbExecutor, id: string, options: { forUpdate?: boolean } = {}): Promise<WebhookSubscription | undefined> {
  if (!isUuid(id)) return undefined;
  let query = db.selectFrom('webhook_subscription').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/**
 * Applies `changes` and bumps `updated_at`; returns the new row, or undefined if there is none.
 *
 * @example
 * await updateSubscriptionRow(trx, id, { enabled: true, consecutive_failures: 0 });
 */
export function updateSubscriptionRow(db: DbExecutor, id: string, changes: WebhookSubscriptionUpdate): Promise<WebhookSubscription | undefined> {
  if (!isUuid(id)) return Promise.resolve(undefined);
  return db
    .updateTable('webhook_subscription')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Deletes the subscription (its attempt log goes with it, by cascade); returns what it was.
 *
 * @example
 * const gone = await deleteSubscriptionRow(trx, id);
 */
export function deleteSubscriptionRow(db: DbExecutor, id: string): Promise<WebhookSubscription | undefined> {
  if (!isUuid(id)) return Promise.resolve(undefined);
  return db.deleteFrom('webhook_subscription').where('id', '=', id).returningAll().executeTakeFirst();
}

export interface ListSubscriptionRowsOptions {
  limit: number;
  /** Start after this position (from the previous page's cursor). */
  after?: KeysetPosition;
  enabled?: boolean;
}

/**
 * One page in `(created_at, id)` order, oldest first, and the position to continue from
 * (undefined on the last page).
 *
 * @example
 * const { rows, next } = await listSubscriptionRows(db, { limit: 20, enabled: false });
 */
export async function listSubscriptionRows(
  db: DbExecutor,
  options: ListSubscriptionRowsOptions,
): Promise<{ rows: WebhookSubscription[]; next: KeysetPosition | undefined }> {
  let query = db.selectFrom('webhook_subscription').selectAll().select(createdAtText.as('position_created_at'));
  if (options.after) query = query.where(afterPosition(options.after));
  if (options.enabled !== undefined) query = query.where('enabled', '=', options.enabled);
  return toPage(await query.orderBy('created_at').orderBy('id').limit(options.limit + 1).execute(), options.limit);
}
