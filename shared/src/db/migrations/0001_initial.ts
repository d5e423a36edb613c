import { sql, type Kysely, type Migration } from 'kysely';

// Migrations take `Kysely<unknown>` on purpose: they must not depend on the current `Database`
// type, which describes the latest schema rather than the one this migration sees.
// Tables are created unqualified so they land in the connection's search_path (per-test schemas).

/** Creates the four tables of SPEC §4 and their indexes. */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('cron_job')
      .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn('job_id', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('pattern', 'text', (c) => c.notNull())
      .addColumn('handler', 'text', (c) => c.notNull())
      .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(3))
      .addColumn('backoff_ms', 'integer', (c) => c.notNull().defaultTo(1000))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('webhook_subscription')
      .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', sql`text[]`, (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_at', 'timestamptz')
      .addColumn('disabled_reason', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('webhook_event')
      .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn('subscription_id', 'uuid', (c) =>
        c.notNull().references('webhook_subscription.id').onDelete('cascade'),
      )
      .addColumn('webhook_id', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text')
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('request_body', 'jsonb', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('success', 'boolean', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    // Per-subscription history, newest first (the admin API lists it that way).
    await db.schema
      .createIndex('webhook_event_subscription_created_idx')
      .on('webhook_event')
      .columns(['subscription_id', 'created_at desc'])
      .execute();
    // Retention pruning deletes by age.
    await db.schema.createIndex('webhook_event_created_idx').on('webhook_event').column('created_at').execute();

    await db.schema
      .createTable('webhook_outbox')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('data', 'jsonb', (c) => c.notNull())
      .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('relayed_at', 'timestamptz')
      .execute();
    // The relay only scans pending rows; relayed ones would otherwise bloat the scan.
    await db.schema
      .createIndex('webhook_outbox_pending_idx')
      .on('webhook_outbox')
      .column('id')
      .where(sql.ref('relayed_at'), 'is', null)
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('webhook_outbox').ifExists().execute();
    await db.schema.dropTable('webhook_event').ifExists().execute();
    await db.schema.dropTable('webhook_subscription').ifExists().execute();
    await db.schema.dropTable('cron_job').ifExists().execute();
  },
};
