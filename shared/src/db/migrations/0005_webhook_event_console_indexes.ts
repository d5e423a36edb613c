import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Indexes for the console's webhook pages (SPEC §17), which read the attempt log by event and by
 * failure rather than only by time:
 * - `(subscription_id, webhook_id, created_at desc)`: the delivery log shows each event's attempts
 *   together (one lookup per event on a page) and keeps an event on one page only (an anti-join on
 *   "a newer attempt of the same event"); the replay of skipped events asks the same question.
 *   Without it both scan every attempt of the subscription.
 * - a partial index of real failures (not `skipped`) by time: "last failure" on the subscription
 *   list is the newest one, however old; through the time index alone, a subscription with a
 *   month of successes and no failure would be read in full on every page view.
 * The failure predicate is written literally (`not success and error is distinct from 'skipped'`)
 * and the console's query repeats it, so the planner can prove the index applies.
 */
export const webhookEventConsoleIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('webhook_event_subscription_event_idx')
      .on('webhook_event')
      .columns(['subscription_id', 'webhook_id', 'created_at desc'])
      .execute();
    await db.schema
      .createIndex('webhook_event_failure_idx')
      .on('webhook_event')
      .columns(['subscription_id', 'created_at desc'])
      .where(sql<boolean>`not success and error is distinct from 'skipped'`)
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('webhook_event_failure_idx').ifExists().execute();
    await db.schema.dropIndex('webhook_event_subscription_event_idx').ifExists().execute();
  },
};
