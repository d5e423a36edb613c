import type { Kysely, Migration } from 'kysely';

/**
 * Standard Webhooks secrets (SPEC §18): each subscription's `whsec_…` secret, encrypted, and the
 * previous one kept through a rotation's 24 h overlap. The columns are nullable because SQL
 * cannot make them: a secret is drawn and AES-256-GCM encrypted in TypeScript under
 * `WEBHOOK_SECRET_KEY`, which migrations do not see. Existing rows get theirs from the API at
 * start-up (`backfillSubscriptionSecrets`) and, should a worker reach one first, on its first
 * delivery (`ensureSubscriptionSecret`), so no delivery goes out without the Standard signature.
 */
export const webhookSubscriptionSecret: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('webhook_subscription')
      .addColumn('secret_ciphertext', 'text')
      .addColumn('previous_secret_ciphertext', 'text')
      .addColumn('secret_rotated_at', 'timestamptz')
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('webhook_subscription')
      .dropColumn('secret_rotated_at')
      .dropColumn('previous_secret_ciphertext')
      .dropColumn('secret_ciphertext')
      .execute();
  },
};
