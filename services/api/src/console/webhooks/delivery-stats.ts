import { sql, type RawBuilder } from 'kysely';
import type { DbExecutor } from '../../cron/cron-job-repository.js';
import { isUuid } from '../../cron/uuid.js';

/** The window of the success rate on the subscription list. */
export const SUCCESS_RATE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** How a subscription's deliveries went: the list's "success rate (24 h)" and "last failure". */
export interface DeliveryStats {
  /** Real attempts (not `skipped`) recorded in the window. */
  attempts: number;
  /** Of those, the delivered ones (2xx). */
  delivered: number;
  /** `delivered / attempts`, or null without an attempt in the window (no rate to show). */
  successRate: number | null;
  /** The newest failed attempt, however old (retention permitting); undefined when none. */
  lastFailure: { at: Date; error: string | null; responseStatus: number | null } | undefined;
}

/** One row of {@link deliveryStatsQuery}. */
export interface StatsRow {
  id: string;
  attempts: number;
  delivered: number;
  last_failure_at: Date | null;
  last_failure_error: string | null;
  last_failure_status: number | null;
}

/**
 * Delivery figures for a page of subscriptions in one query (never one per row). An attempt
 * counts once: `skipped` rows (the subscription was disabled, nothing was sent) are neither
 * attempts nor failures, so a disabled subscription's rate still says how its receiver fared.
 * The last failure is read through migration 0005's partial index, whose predicate the query
 * repeats literally. Ids that are not uuids, or have no row, come back with zero figures.
 *
 * @example
 * const stats = await deliveryStats(db, rows.map((r) => r.id));
 * stats.get(id)?.successRate; // 0.8
 */
export async function deliveryStats(db: DbExecutor, subscriptionIds: readonly string[], now: Date = new Date()): Promise<Map<string, DeliveryStats>> {
  const ids = [...new Set(subscriptionIds.filter(isUuid))];
  const result = new Map<string, DeliveryStats>();
  for (const id of subscriptionIds) result.set(id, { attempts: 0, delivered: 0, successRate: null, lastFailure: undefined });
  if (ids.length === 0) return result;
  const { rows } = await deliveryStatsQuery(ids, new Date(now.getTime() - SUCCESS_RATE_WINDOW_MS)).execute(db);
  for (const row of rows) {
    result.set(row.id, {
      attempts: row.attempts,
      delivered: row.delivered,
      successRate: row.attempts > 0 ? row.delivered / row.attempts : null,
      lastFailure: row.last_failure_at
        ? { at: new Date(row.last_failure_at), error: row.last_failure_error, responseStatus: row.last_failure_status }
        : undefined,
    });
  }
  return result;
}

/**
 * The statement behind {@link deliveryStats}, for `ids` (canonical uuids) and attempts after
 * `since`; exported so a test can ask the planner how it runs.
 */
export function deliveryStatsQuery(ids: readonly string[], since: Date): RawBuilder<StatsRow> {
  return sql<StatsRow>`
    select s.id, window_stats.attempts, window_stats.delivered,
           last_failure.created_at as last_failure_at, last_failure.error as last_failure_error, last_failure.response_status as last_failure_status
    from webhook_subscription s
    cross join lateral (
      select count(*)::int as attempts, (count(*) filter (where e.success))::int as delivered
      from webhook_event e
      where e.subscription_id = s.id and e.created_at > ${since} and e.error is distinct from 'skipped'
    ) window_stats
    left join lateral (
      select f.created_at, f.error, f.response_status
      from webhook_event f
      where f.subscription_id = s.id and not f.success and f.error is distinct from 'skipped'
      order by f.created_at desc
      limit 1
    ) last_failure on true
    where s.id in (${sql.join(ids.map((id) => sql`${id}::uuid`))})
  `;
}
