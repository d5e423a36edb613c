import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export interface CreateDatabaseOptions {
  /** Postgres connection string. Unset: embedded PGlite under `dataDir`. */
  databaseUrl?: string;
  /**
   * Data folder (`DATA_DIR`, default `.data`). PGlite keeps its files in `<dataDir>/pglite`, so they
   * do not mix with the other local state kept there (e.g. the generated signing key).
   */
  dataDir?: string;
  /** Schema used as every connection's search_path; created if missing. Lets tests isolate themselves. */
  schema?: string;
  /** Pool size for Postgres (default 10). PGlite always uses 1. */
  max?: number;
  /**
   * Called when an idle pooled connection fails (e.g. the server restarted). The pool drops that
   * connection either way; without a listener `pg` would crash the process with an unhandled 'error'.
   */
  onError?: (err: Error) => void;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** Ends the pool (and stops PGlite). Safe to call more than once. */
  close(): Promise<void>;
  kind: 'postgres' | 'pglite';
}

// The schema name is spliced into a startup option, where it cannot be bound as a parameter.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens the database: Postgres when `databaseUrl` is set, otherwise embedded PGlite in `dataDir`.
 *
 * @example
 * const { db, close } = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
 * const jobs = await db.selectFrom('cron_job').selectAll().execute();
 * await close();
 */
export async function createDatabase(options: CreateDatabaseOptions): Promise<DatabaseHandle> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use lowercase letters, digits and _`);
  }
  const onError = options.onError ?? (() => {});
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, schema, options.max ?? 10, onError)
    : openPglite(join(options.dataDir ?? '.data', 'pglite'), schema, onError);
}

async function openPostgres(
  url: string,
  schema: string | undefined,
  max: number,
  onError: (err: Error) => void,
): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Fail fast while Postgres is down, so the API can answer 503 instead of hanging.
    connectionTimeoutMillis: 3_000,
    // A startup option rather than a `set` per query, so it holds for every pooled connection.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('error', onError);
  // pg-pool listens for errors only on idle clients. A client checked out between two queries
  // (inside a transaction, say) that loses its connection emits 'error' with no listener, which
  // ends the process. Its transaction gets the error anyway; this keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const close = once(() => db.destroy());
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    else await sql`select 1`.execute(db); // fail here, not on first use, if the URL is wrong
  } catch (err) {
    await close();
    throw err;
  }
  return { db, close, kind: 'postgres' };
}

async function openPglite(
  dataDir: string,
  schema: string | undefined,
  onError: (err: Error) => void,
): Promise<DatabaseHandle> {
  await mkdir(dataDir, { recursive: true });
  // Loaded only here: deployments run on Postgres, and their images leave PGlite (27 MB) out.
  const [{ PGlite }, { createPgConfig }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite/node-postgres')]);
  const pglite = await PGlite.create(dataDir);
  // PGlite is a single session, so a search_path set here holds for every query that follows.
  if (schema) await pglite.exec(`create schema if not exists "${schema}"; set search_path to "${schema}"`);
  const pool = new pg.Pool({
    // @types/pg does not declare the `connection` field that routes the client to PGlite.
    ...(createPgConfig(pglite) as unknown as pg.PoolConfig),
    max: 1,
    // Keep the single client forever: recycling it would reconnect through the same shared connection object.
    idleTimeoutMillis: 0,
  });
  pool.on('error', onError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const close = once(async () => {
    try {
      await db.destroy();
    } finally {
      await pglite.close();
    }
  });
  return { db, close, kind: 'pglite' };
}

/** Memoises an async action so repeated calls share the first call's promise. */
function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}
