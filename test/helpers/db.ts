import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createDatabase, migrateToLatest, type Database } from '../../shared/src/db/index.js';

export interface TestDatabase {
  db: Kysely<Database>;
  /** The unique schema (`t_<random>`) this database lives in. */
  schema: string;
  /** Drops the schema (cascade) and closes the pool. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * A private schema on the test Postgres (`DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
 * migrated unless `migrate: false`, so tests can run in parallel without seeing each other's rows.
 *
 * @example
 * const t = await createTestDatabase();
 * try { await t.db.selectFrom('cron_job').selectAll().execute(); } finally { await t.close(); }
 */
const testDatabaseUrl = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const databaseUrl = testDatabaseUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await createDatabase({ databaseUrl, schema, max: 4 });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await withSchemaDdlLock(databaseUrl, () => sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db));
      } finally {
        await handle.close();
      }
    })());
  try {
    if (options.migrate !== false) await withSchemaDdlLock(databaseUrl, () => migrateToLatest(handle.db, { schema }));
  } catch (err) {
    await close();
    throw err;
  }
  return { db: handle.db, schema, close };
}

/**
 * Runs schema DDL of a test's own (a single migration's `up` or `down`, an `alter table`) in turn
 * with every other test's: see {@link withSchemaDdlLock}.
 *
 * @example
 * await underDdlLock(() => migrations['0002_outbox_webhook_id']!.up(db));
 */
export function underDdlLock<T>(work: () => Promise<T>): Promise<T> {
  return withSchemaDdlLock(testDatabaseUrl(), work);
}

/**
 * Kysely's migrator introspects the tables of every schema in the database; another test
 * creating or dropping its own schema at that moment makes that catalog query fail ("schema …
 * does not exist", "column … does not exist"). Test files run in parallel processes, so their
 * schema DDL takes turns under one Postgres advisory lock, held on a connection of its own.
 */
async function withSchemaDdlLock<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('jobs-test-schema-ddl'))`);
    return await work();
  } finally {
    await client.end(); // ending the session releases the lock
  }
}
