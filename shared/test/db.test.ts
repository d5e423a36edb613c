import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { describe, it, expect } from 'vitest';
import { createDatabase, migrateToLatest, type Database } from '../src/db/index.js';
import { migrations } from '../src/db/migrations/index.js';
import { createTestDatabase, underDdlLock } from '../../test/helpers/db.js';

/** Every migration, in the order Kysely applies them (by name). */
const allMigrations = Object.keys(migrations).sort();

/** Insert + select round-trip shared by the Postgres and PGlite cases. */
async function roundTrip(db: Kysely<Database>): Promise<void> {
  const jobId = `job-${randomBytes(4).toString('hex')}`;
  await db
    .insertInto('cron_job')
    .values({ job_id: jobId, name: 'nightly', pattern: '0 3 * * *', handler: 'report', payload: { to: ['a@b.c'], n: 1 } })
    .execute();
  const row = await db.selectFrom('cron_job').selectAll().where('job_id', '=', jobId).executeTakeFirstOrThrow();
  expect(row).toMatchObject({
    job_id: jobId,
    payload: { to: ['a@b.c'], n: 1 },
    enabled: true,
    max_attempts: 3,
    backoff_ms: 1000,
  });
  expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(row.created_at).toBeInstanceOf(Date);

  // payload defaults to {}
  const bare = await db
    .insertInto('cron_job')
    .values({ job_id: `${jobId}-2`, name: 'n', pattern: '* * * * *', handler: 'h' })
    .returning('payload')
    .executeTakeFirstOrThrow();
  expect(bare.payload).toEqual({});

  await expect(
    db.insertInto('cron_job').values({ job_id: jobId, name: 'dup', pattern: '* * * * *', handler: 'h' }).execute(),
  ).rejects.toMatchObject({ code: '23505' });

  const outbox = await db
    .insertInto('webhook_outbox')
    .values({ resource: 'cronJob', action: 'create', resource_id: row.id, data: { name: 'nightly' } })
    .returning(['id', 'relayed_at'])
    .executeTakeFirstOrThrow();
  expect(typeof outbox.id).toBe('string');
  expect(outbox.relayed_at).toBeNull();

  const sub = await db
    .insertInto('webhook_subscription')
    .values({ url: 'https://example.test/hook', events: ['cronJob.*', '*'], description: null })
    .returning(['id', 'events'])
    .executeTakeFirstOrThrow();
  expect(sub.events).toEqual(['cronJob.*', '*']);
}

describe('database on Postgres (own schema)', () => {
  it('migrates once, then has nothing to apply', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      // Under the shared DDL lock: the migrator introspects every schema, which other files create and drop.
      expect(await underDdlLock(() => migrateToLatest(t.db, { schema: t.schema }))).toEqual({ applied: allMigrations });
      expect(await underDdlLock(() => migrateToLatest(t.db, { schema: t.schema }))).toEqual({ applied: [] });
    } finally {
      await t.close();
    }
  });

  it('names the failing migration', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      // A table in the way makes 0001 fail part-way; its transaction must roll back.
      await underDdlLock(() => sql`create table cron_job (id int)`.execute(t.db));
      await expect(underDdlLock(() => migrateToLatest(t.db, { schema: t.schema }))).rejects.toThrow(/migration 0001_initial failed/);
      const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = ${t.schema} order by 1`.execute(t.db);
      expect(tables.rows.map((r) => r.tablename)).toEqual(['cron_job', 'kysely_migration', 'kysely_migration_lock']);
    } finally {
      await t.close();
    }
  });

  it('round-trips rows', async () => {
    const t = await createTestDatabase();
    try {
      await roundTrip(t.db);
    } finally {
      await t.close();
      await t.close(); // idempotent
    }
  });
});

describe('database on PGlite', () => {
  it('migrates, round-trips, and keeps data across a reopen', { timeout: 60_000 }, async () => {
    const dataDir = join(tmpdir(), `jobs-db-test-${randomBytes(6).toString('hex')}`);
    try {
      const first = await createDatabase({ dataDir });
      try {
        expect(first.kind).toBe('pglite');
        expect(await migrateToLatest(first.db)).toEqual({ applied: allMigrations });
        await roundTrip(first.db);
      } finally {
        await first.close();
        await first.close(); // idempotent
      }

      const second = await createDatabase({ dataDir });
      try {
        expect(await migrateToLatest(second.db)).toEqual({ applied: [] });
        const rows = await second.db.selectFrom('cron_job').select('name').execute();
        expect(rows).toHaveLength(2);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
