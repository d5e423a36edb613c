import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, isDatabaseUnavailable, openServiceDatabase, type Database, type DatabaseHandle } from '../src/db/index.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { captureLogger, sleepUntil, startTcpProxy, type TcpProxy } from '../../test/helpers/index.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const backendPid = async (db: Kysely<Database>) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;

/** The rejection of `promise` and how long it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (err) {
    return { err, ms: performance.now() - started };
  }
  throw new Error('expected a failure');
}

// A Postgres that stops answering must not hold an API request or a worker slot: every wait is bounded.
describe('Postgres timeouts', () => {
  let proxy: TcpProxy | undefined;
  let database: DatabaseHandle | undefined;
  afterEach(async () => {
    await database?.close();
    await proxy?.close();
    database = proxy = undefined;
  });

  it('a connection that goes silent: the query fails within query_timeout as "unavailable", that connection is dropped, and the pool recovers', async () => {
    proxy = await startTcpProxy({ targetPort: 5432 });
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    url.hostname = '127.0.0.1';
    database = await createDatabase({ databaseUrl: url.toString(), max: 1, timeouts: { statementMs: 500, queryMs: 1_000, connectMs: 1_000 } });
    const { db } = database;
    const before = await backendPid(db);

    proxy.pause(); // the connection stays open, nothing comes back (a hung server, a half-open path)
    const stuck = await failure(sql`select 1`.execute(db));
    expect(stuck.err).toBeInstanceOf(Error);
    expect((stuck.err as Error).message).toMatch(/Query read timeout/);
    expect(isDatabaseUnavailable(stuck.err)).toBe(true);
    expect(stuck.ms).toBeGreaterThanOrEqual(900);
    expect(stuck.ms).toBeLessThan(3_000);

    // The pool's only slot is free again (the stuck connection was dropped, not queued behind):
    // the next query opens a new connection, which gets no answer either and fails within connect timeout.
    const connecting = await failure(sql`select 1`.execute(db));
    expect(isDatabaseUnavailable(connecting.err)).toBe(true);
    expect((connecting.err as Error).message).not.toMatch(/Query read timeout/);
    expect(connecting.ms).toBeLessThan(3_000);

    // Postgres answers again: the held bytes go through, and a query succeeds on a new connection.
    // Had the timed-out connection been kept, its late answer would have made it usable again: same pid.
    proxy.resume();
    const after = await sleepUntil(() => backendPid(db).catch(() => undefined), { message: 'a query after the proxy answers again' });
    expect(after).not.toBe(before);
  });

  it('inside a transaction: the transaction fails as "unavailable" within the timeout, and the pool recovers', async () => {
    proxy = await startTcpProxy({ targetPort: 5432 });
    database = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/test`, max: 1, timeouts: { statementMs: 500, queryMs: 1_000, connectMs: 1_000 } });
    const { db } = database;
    let inside = false;
    let paused!: () => void;
    const pause = new Promise<void>((resolve) => (paused = resolve));
    const transaction = db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      inside = true;
      await pause;
      await sql`select 2`.execute(trx); // no answer: times out, and so does the rollback's connection
    });
    await sleepUntil(() => inside, { message: 'the first query of the transaction' });
    proxy.pause();
    paused();
    const { err, ms } = await failure(transaction);
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(ms).toBeLessThan(4_000);
    proxy.resume();
    await sleepUntil(() => sql`select 1`.execute(db).then(() => true, () => false), { message: 'a query after the proxy answers again' });
  });

  it('statement_timeout: Postgres cancels a long statement (57014, "unavailable") and the connection stays in use', async () => {
    database = await createDatabase({ databaseUrl: DATABASE_URL, max: 1, timeouts: { statementMs: 300, queryMs: 5_000 } });
    const { db } = database;
    expect((await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db)).rows[0]!.statement_timeout).toBe('300ms');
    const pid = await backendPid(db);
    const { err, ms } = await failure(sql`select pg_sleep(3)`.execute(db));
    expect((err as { code?: string }).code).toBe('57014');
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(ms).toBeLessThan(2_000);
    expect(await backendPid(db)).toBe(pid);
  });

  it('the DATABASE_*_TIMEOUT_MS variables reach the pool of a service (defaults 30 s / 35 s / 5 s)', async () => {
    expect(loadConfig({ APP_ENV: 'test' }).database).toEqual({ statementTimeoutMs: 30_000, queryTimeoutMs: 35_000, connectTimeoutMs: 5_000 });
    const config = loadConfig({ APP_ENV: 'test', DATABASE_URL, DATABASE_STATEMENT_TIMEOUT_MS: '1234', DATABASE_QUERY_TIMEOUT_MS: '2000', DATABASE_CONNECT_TIMEOUT_MS: '1500' });
    database = await openServiceDatabase(config, captureLogger().log);
    expect((await sql<{ statement_timeout: string }>`show statement_timeout`.execute(database.db)).rows[0]!.statement_timeout).toBe('1234ms');

    for (const [env, variable] of [
      [{ DATABASE_STATEMENT_TIMEOUT_MS: '-1' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      [{ DATABASE_QUERY_TIMEOUT_MS: 'soon' }, 'DATABASE_QUERY_TIMEOUT_MS'],
      [{ DATABASE_CONNECT_TIMEOUT_MS: '0' }, 'DATABASE_CONNECT_TIMEOUT_MS'],
      [{ DATABASE_STATEMENT_TIMEOUT_MS: '40000' }, 'DATABASE_QUERY_TIMEOUT_MS'], // not longer than the statement timeout
    ] as const) {
      const error = (() => {
        try {
          loadConfig({ APP_ENV: 'test', ...env });
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
    }
    // 0 turns the statement and query limits off.
    expect(loadConfig({ APP_ENV: 'test', DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_QUERY_TIMEOUT_MS: '0' }).database).toMatchObject({ statementTimeoutMs: 0, queryTimeoutMs: 0 });
  });
});
