import { sql, type RawBuilder } from 'kysely';
import type { WebhookEvent } from '@jobs/shared/db';
import type { DbExecutor } from '../../cron/cron-job-repository.js';
import type { KeysetPosition } from '../../cron/pagination.js';
import type { DeliveryLogFilter } from './delivery-log-filter.js';

/** One event of the log with its attempts that match the filter, newest first. */
export interface LoggedEvent {
  webhookId: string;
  resource: string;
  action: string;
  resourceId: string;
  attempts: WebhookEvent[];
}

/** A page of the log, and the position after its last event (undefined on the last page). */
export interface DeliveryLogPage {
  events: LoggedEvent[];
  next: KeysetPosition | undefined;
}

const ATTEMPT_COLUMNS = sql.raw(
  'id, subscription_id, webhook_id, job_id, attempt, action, resource, resource_id, request_body, response_status, response_body, error, duration_ms, success, created_at',
);

/**
 * One page of a subscription's delivery log: events newest first (by their newest matching
 * attempt), each with all its attempts that match `filter` together, newest first. An event sits
 * on one page only: the page is cut on each event's newest matching attempt (keyset on its
 * `(created_at, id)`), and an attempt recorded while paging moves its event before the first
 * page rather than onto a later one twice. Two queries whatever the page size: the events, then
 * their attempts (both served by migration 0005's `(subscription_id, webhook_id, created_at)`).
 *
 * @example
 * const { events, next } = await deliveryLog(db, subscriptionId, { outcome: 'failed' }, { limit: 20 });
 */
export async function deliveryLog(
  db: DbExecutor,
  subscriptionId: string,
  filter: DeliveryLogFilter,
  options: { limit: number; after?: KeysetPosition },
): Promise<DeliveryLogPage> {
  const after = options.after ? sql`and (e.created_at, e.id) < (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)` : sql``;
  const { rows: heads } = await sql<{ id: string; webhook_id: string; position_created_at: string }>`
    select e.id, e.webhook_id, to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_created_at
    from webhook_event e
    where e.subscription_id = ${subscriptionId}::uuid ${matching('e', filter)} ${after}
      and not exists (
        select 1 from webhook_event n
        where n.subscription_id = e.subscription_id and n.webhook_id = e.webhook_id ${matching('n', filter)}
          and (n.created_at, n.id) > (e.created_at, e.id)
      )
    order by e.created_at desc, e.id desc
    limit ${options.limit + 1}
  `.execute(db);
  const page = heads.slice(0, options.limit);
  const last = page.at(-1);
  const next = heads.length > options.limit && last ? { createdAt: last.position_created_at, id: last.id } : undefined;
  if (page.length === 0) return { events: [], next };

  const { rows: attempts } = await sql<WebhookEvent>`
    select ${ATTEMPT_COLUMNS}
    from webhook_event e
    where e.subscription_id = ${subscriptionId}::uuid ${matching('e', filter)}
      and e.webhook_id in (${sql.join(page.map((h) => h.webhook_id))})
    order by e.created_at desc, e.id desc
  `.execute(db);
  const byEvent = new Map<string, WebhookEvent[]>();
  for (const attempt of attempts) {
    const list = byEvent.get(attempt.webhook_id) ?? [];
    list.push({ ...attempt, created_at: new Date(attempt.created_at) });
    byEvent.set(attempt.webhook_id, list);
  }
  const events = page.flatMap((head): LoggedEvent[] => {
    const list = byEvent.get(head.webhook_id);
    // An attempt recorded between the two queries may be newer; never drops the event.
    const newest = list?.[0];
    return newest ? [{ webhookId: head.webhook_id, resource: newest.resource, action: newest.action, resourceId: newest.resource_id, attempts: list }] : [];
  });
  return { events, next };
}

/**
 * The filter as SQL on the attempts aliased `alias`. Outcomes are written as literal predicates
 * (not parameters) so the planner can match them against the partial failure index.
 */
function matching(alias: 'e' | 'n', filter: DeliveryLogFilter): RawBuilder<unknown> {
  const column = (name: string) => sql.ref(`${alias}.${name}`);
  const parts: RawBuilder<unknown>[] = [];
  if (filter.outcome === 'delivered') parts.push(sql`${column('success')}`);
  if (filter.outcome === 'failed') parts.push(sql`not ${column('success')} and ${column('error')} is distinct from 'skipped'`);
  if (filter.outcome === 'skipped') parts.push(sql`${column('error')} = 'skipped'`);
  if (filter.error !== undefined) parts.push(sql`${column('error')} = ${filter.error}`);
  if (filter.resource !== undefined) parts.push(sql`${column('resource')} = ${filter.resource}`);
  if (filter.action !== undefined) parts.push(sql`${column('action')} = ${filter.action}`);
  if (filter.webhookId !== undefined) parts.push(sql`${column('webhook_id')} = ${filter.webhookId}`);
  return parts.length === 0 ? sql`` : sql`and ${sql.join(parts, sql` and `)}`;
}
