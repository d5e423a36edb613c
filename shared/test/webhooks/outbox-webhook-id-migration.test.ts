import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/db/migrations/index.js';
import { createTestDatabase, underDdlLock, type TestDatabase } from '../../../test/helpers/db.js';

// Migration 0002 on a database that already holds outbox rows (an upgrade with deliveries in flight).
describe('migration 0002_outbox_webhook_id', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('keeps the id existing rows were delivered with (evt_<outbox id>); rows written without one get a random id', async () => {
    t = await createTestDatabase({ migrate: false });
    const db = t.db as unknown as Kysely<unknown>;
    await underDdlLock(() => migrations['0001_initial']!.up(db));
    const before = await sql<{ id: string }>`
      insert into webhook_outbox (resource, action, resource_id, data, relayed_at)
      values ('cronJob', 'create', 'a', '{}', now()), ('cronJob', 'update', 'a', '{}', null)
      returning id`.execute(db);

    await underDdlLock(() => migrations['0002_outbox_webhook_id']!.up(db));
    const rows = await t.db.selectFrom('webhook_outbox').select(['id', 'webhook_id']).orderBy('id').execute();
    expect(rows).toEqual(before.rows.map(({ id }) => ({ id, webhook_id: `evt_${id}` })));

    // A writer from before the upgrade (rolling deploy) names no webhook_id: the default draws one.
    const [{ webhook_id: drawn }] = (await sql<{ webhook_id: string }>`
      insert into webhook_outbox (resource, action, resource_id, data) values ('x', 'y', 'z', '{}') returning webhook_id`.execute(db)).rows as [{ webhook_id: string }];
    expect(drawn).toMatch(/^evt_[0-9a-f]{32}$/);
  });
});
