import type { Kysely, Migration } from 'kysely';

/**
 * Gives each outbox row the W3C trace context of the mutation that wrote it (SPEC §15), so the
 * relay, whichever process runs it and however late, enqueues the deliveries inside that trace.
 * Null when tracing is off or the writer predates this column (its deliveries start their own).
 */
export const outboxTraceContext: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('webhook_outbox').addColumn('trace_context', 'jsonb').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('webhook_outbox').dropColumn('trace_context').execute();
  },
};
