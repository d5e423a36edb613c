import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/db/migrations/index.js';
import { backfillSubscriptionSecrets, createWebhookSecretBox, signingSecretsOf } from '../../src/webhooks/index.js';
import { createTestDatabase, underDdlLock, type TestDatabase } from '../../../test/helpers/db.js';

// Migration 0003 on a database that already holds subscriptions (an upgrade).
describe('migration 0003_webhook_subscription_secret', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('existing subscriptions keep working and end up with a secret of their own; down drops the columns', async () => {
    t = await createTestDatabase({ migrate: false });
    const db = t.db as unknown as Kysely<unknown>;
    await underDdlLock(() => migrations['0001_initial']!.up(db));
    await underDdlLock(() => migrations['0002_outbox_webhook_id']!.up(db));
    const before = await sql<{ id: string }>`
      insert into webhook_subscription (url, events) values ('https://a.example/h', '{*}'), ('https://b.example/h', '{cronJob.*}')
      returning id`.execute(db);

    await underDdlLock(() => migrations['0003_webhook_subscription_secret']!.up(db));
    const rows = await t.db.selectFrom('webhook_subscription').selectAll().orderBy('url').execute();
    expect(rows.map((r) => [r.secret_ciphertext, r.previous_secret_ciphertext, r.secret_rotated_at])).toEqual([
      [null, null, null],
      [null, null, null],
    ]);

    // What the API does at start-up: each row gets its own secret, encrypted.
    const box = createWebhookSecretBox(randomBytes(32));
    expect(await backfillSubscriptionSecrets(t.db, box)).toBe(2);
    const secrets = [];
    for (const { id } of before.rows) {
      const row = await t.db.selectFrom('webhook_subscription').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      secrets.push(...(await signingSecretsOf(t.db, box, row)));
    }
    expect(secrets).toHaveLength(2);
    expect(new Set(secrets).size).toBe(2);
    for (const secret of secrets) expect(secret).toMatch(/^whsec_/);

    await underDdlLock(() => migrations['0003_webhook_subscription_secret']!.down!(db));
    const columns = await sql<{ column_name: string }>`
      select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'webhook_subscription'`.execute(db);
    expect(columns.rows.map((c) => c.column_name)).not.toContain('secret_ciphertext');
  });
});
