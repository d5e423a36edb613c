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
  /** Postgres only (PGlite runs in-process, with nothing to wait for): see {@link DatabaseTimeouts}. */
  timeouts?: Partial<DatabaseTimeouts>;
}

/**
 * Bounds on waiting for Postgres, so an API request or a worker slot is never held by a database
 * that does not answer (`DATABASE_*_TIMEOUT_MS`).
 */
export interface DatabaseTimeouts {
  /**
   * Server side (`statement_timeout`): Postgres cancels a statement that runs longer, with code
   * 57014; the connection stays usable. 0 = no limit. A job that needs longer sets
   * `set local statement_timeout` in its transaction. Set with `set` when a connection opens; behind
   * PgBouncer in transaction mode that setting follows the server connection, not ours, so set it
   * on the role there instead (`alter role … set statement_timeout`) and this to 0.
   */
  statementMs: number;
  /**
   * Client side (pg's `query_timeout`): how long a query may go without any answer, for when the
   * server or the network is silent and the statement timeout cannot report. The connection is then
   * dropped, never reused. Longer than `statementMs`, so a merely slow query gets the server's
   * answer first. 0 = no limit.
   */
  queryMs: number;
  /** Opening a connection, or waiting for a free one in a full pool. */
  connectMs: number;
}

/**
 * 30 s is far beyond what any query of this system takes (they are indexed lookups and small
 * batches), yet leaves room for a slow moment; 35 s gives the server's own cancel time to arrive
 * first. 5 s to connect covers a TLS handshake and authentication to a busy managed Postgres and
 * matches the 5 s the job client waits for Redis, so a request with a dependency down fails the
 * same way, in about the same time, with 503.
 */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { statementMs: 30_000, queryMs: 35_000, connectMs: 5_000 };

/**
 * Idle pooled connections send TCP keepalive probes after this long: a firewall or NAT that drops
 * silent flows (AWS NAT after 350 s, Azure after 4 min) keeps them, and a peer that vanished is
 * noticed by the kernel instead of on the next query.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

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
    ? openPostgres(options.databaseUrl, schema, options.max ?? 10, onError, { ...DEFAULT_DATABASE_TIMEOUTS, ...options.timeouts })
    : openPglite(join(options.dataDir ?? '.data', 'pglite'), schema, onError);
}

async function openPostgres(
  url: string,
  schema: string | undefined,
  max: number,
  onError: (err: Error) => void,
  timeouts: DatabaseTimeouts,
): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Fail fast while Postgres is down, so the API can answer 503 instead of hanging.
    connectionTimeoutMillis: timeouts.connectMs,
    // A `set` on each new connection, before pg-pool hands it out, rather than pg's
    // `statement_timeout` startup parameter: PgBouncer refuses unknown startup parameters
    // ("unsupported startup parameter"), so the services could not connect through it at all.
    ...(timeouts.statementMs > 0 ? { onConnect: (client: pg.ClientBase) => client.query(`set statement_timeout = ${Math.trunc(timeouts.statementMs)}`) } : {}),
    ...(timeouts.queryMs > 0 ? { query_timeout: timeouts.queryMs } : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    // A startup option rather than a `set` per query, so it holds for every pooled connection.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on('error', onError);
  // pg-pool listens for errors only on idle clients. A client checked out between two queries
  // (inside a transaction, say) that loses its connection emits 'error' with no listener, which
  // ends the process. Its transaction gets the error anyway; this keeps the process alive.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    dropOnQueryTimeout(client);
  });
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

/** pg's error for a query that got no answer within `query_timeout`. */
function isQueryReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/**
 * A query pg gave up on (`query_timeout`) still occupies its connection: its answer may come
 * later or never, and the next query would queue behind it. Kysely releases the connection
 * without an error, so pg-pool would hand it to the next caller; ending it here marks it, and
 * pg-pool drops it on release. (`pool.query` callers release with the error, which drops it too.)
 */
function dropOnQueryTimeout(client: pg.PoolClient): void {
  type Query = (...args: unknown[]) => unknown;
  const query = (client.query as Query).bind(client);
  (client as unknown as { query: Query }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if (isQueryReadTimeout(err)) client.end().catch(() => {});
      });
    }
    return result;
  };
}

/** Memoises an async action so repeated calls share the first call's promise. */
function once(action: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= action());
}
