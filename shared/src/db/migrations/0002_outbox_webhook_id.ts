import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Gives each outbox row its event id (`X-Webhook-Id`), drawn at random when the row is written
 * (SPEC §14: not a counter a receiver could guess), so every delivery, retry and replay of the
 * event carries the same one. Rows already there keep the id they were delivered with until
 * now (`evt_<outbox id>`), so their in-flight retries are still deduplicated by receivers.
 * The column default covers a writer from before this migration during a rolling upgrade
 * (gen_random_uuid: 122 random bits); this version writes 128 random bits itself. Also indexes
 * relayed rows by `relayed_at`, which the retention now prunes after a day.
 */
export const outboxWebhookId: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('webhook_outbox').addColumn('webhook_id', 'text').execute();
    await sql`update webhook_outbox set webhook_id = 'evt_' || id::text`.execute(db);
    await sql`
      alter table webhook_outbox
        alter column webhook_id set default ('evt_' || replace(gen_random_uuid()::text, '-', '')),
        alter column webhook_id set not null`.execute(db);
    // The retention deletes relayed rows by age, a batch at a time: without it each batch scans the table.
    await db.schema
      .createIndex('webhook_outbox_relayed_idx')
      .on('webhook_outbox')
      .column('relayed_at')
      .where(sql.ref('relayed_at'), 'is not', null)
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('webhook_outbox_relayed_idx').ifExists().execute();
    await db.schema.alterTable('webhook_outbox').dropColumn('webhook_id').execute();
  },
};
