import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
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
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await createDatabase({ databaseUrl, schema, max: 4 });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
      } finally {
        await handle.close();
      }
    })());
  try {
    if (options.migrate !== false) await migrateRetryingConcurrentDrops(handle.db, schema);
  } catch (err) {
    await close();
    throw err;
  }
  return { db: handle.db, schema, close };
}

/**
 * Kysely's migrator introspects the tables of every schema it may use; another test dropping its
 * own schema at that moment makes the query fail with "schema … does not exist" (3F000) or
 * "relation … does not exist" (42P01). Nothing was migrated then, so trying again is safe.
 */
async function migrateRetryingConcurrentDrops(db: Kysely<Database>, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateToLatest(db, { schema });
      return;
    } catch (err) {
      const code = ((err as { cause?: { code?: string } }).cause ?? {}).code;
      if (attempt >= 5 || (code !== '3F000' && code !== '42P01')) throw err;
    }
  }
}
