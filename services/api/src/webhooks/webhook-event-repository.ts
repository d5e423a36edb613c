import { sql } from 'kysely';
import type { WebhookEvent } from '@jobs/shared/db';
import type { DbExecutor } from '../cron/cron-job-repository.js';
import { afterPosition, createdAtText, toPage, type KeysetPosition } from '../cron/pagination.js';
import { isUuid } from '../cron/uuid.js';

/**
 * The attempt row with this id, or undefined (also for an id that is not a uuid).
 *
 * @example
 * const attempt = await findEventRow(db, id);
 */
export async function findEventRow(db: DbExecutor, id: string): Promise<WebhookEvent | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('webhook_event').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface ListEventRowsOptions {
  limit: number;
  /** Continue after this position (from the previous page's cursor). */
  after?: KeysetPosition;
  success?: boolean;
}

/**
 * One page of a subscription's attempt log in `(created_at desc, id desc)` order, newest first,
 * and the position to continue from (undefined on the last page). Attempts recorded while paging
 * land before the first page, so none already listed shows up twice.
 *
 * @example
 * const { rows, next } = await listEventRows(db, subscriptionId, { limit: 50, success: false });
 */
export async function listEventRows(
  db: DbExecutor,
  subscriptionId: string,
  options: ListEventRowsOptions,
): Promise<{ rows: WebhookEvent[]; next: KeysetPosition | undefined }> {
  let query = db
    .selectFrom('webhook_event')
    .selectAll()
    .select(createdAtText.as('position_created_at'))
    .where('subscription_id', '=', subscriptionId);
  if (options.after) query = query.where(afterPosition(options.after, 'desc'));
  if (options.success !== undefined) query = query.where('success', '=', options.success);
  return toPage(await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute(), options.limit);
}

/** A skipped delivery still waiting for its replay, with its keyset position. */
export type PendingSkippedRow = Pick<WebhookEvent, 'id' | 'subscription_id' | 'webhook_id' | 'action' | 'resource' | 'resource_id' | 'request_body'> & {
  position_created_at: string;
};

/**
 * One page (oldest first) of the events a subscription skipped while it was disabled and that
 * have not been delivered since: for each `webhook_id`, its latest `skipped` row, unless a real
 * attempt (anything but `skipped`) of that event was recorded after it. A replay therefore drops
 * out of this list as soon as its attempt is recorded; one that is skipped again comes back with
 * its new row.
 *
 * @example
 * const rows = await listPendingSkippedRows(db, subscriptionId, { limit: 200 });
 */
export async function listPendingSkippedRows(
  db: DbExecutor,
  subscriptionId: string,
  options: { limit: number; after?: KeysetPosition },
): Promise<PendingSkippedRow[]> {
  const after = options.after
    ? sql`where (latest.created_at, latest.id) > (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)`
    : sql``;
  const { rows } = await sql<PendingSkippedRow>`
    select latest.id, latest.subscription_id, latest.webhook_id, latest.action, latest.resource, latest.resource_id, latest.request_body,
           to_char(latest.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_created_at
    from (
      select distinct on (skipped.webhook_id) skipped.*
      from webhook_event skipped
      where skipped.subscription_id = ${subscriptionId}::uuid
        and skipped.error = 'skipped'
        and not exists (
          select 1 from webhook_event attempted
          where attempted.subscription_id = skipped.subscription_id
            and attempted.webhook_id = skipped.webhook_id
            and attempted.error is distinct from 'skipped'
            and attempted.created_at > skipped.created_at
        )
      order by skipped.webhook_id, skipped.created_at desc, skipped.id desc
    ) latest
    ${after}
    order by latest.created_at, latest.id
    limit ${options.limit}
  `.execute(db);
  return rows;
}
