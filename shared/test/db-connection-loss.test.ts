import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../src/db/index.js';
import { sleepUntil, startTcpProxy } from '../../test/helpers/index.js';

// Postgres going away (a restart, a failover) must fail the queries that needed it, never the process.
describe('Postgres connection lost while a transaction holds it', () => {
  it('fails that transaction; the process lives and the pool connects again', async () => {
    // "Postgres" is a TCP forwarder to the real one, so its connections can be cut at will.
    const proxy = await startTcpProxy({ targetPort: 5432 });
    const database = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/test` });
    try {
      let firstDone = false;
      let resume!: () => void;
      const gap = new Promise<void>((resolve) => (resume = resolve));
      const transaction = database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        firstDone = true;
        await gap; // checked out, no query running: pg-pool has no error listener on it now
        await sql`select 1`.execute(trx);
      });
      const outcome = transaction.then(
        () => 'committed',
        () => 'failed',
      );
      await sleepUntil(() => firstDone, { message: 'the first query' });
      proxy.cutAll();
      resume();
      expect(await outcome).toBe('failed');
      // Nothing crashed (an 'error' without a listener would have ended the test run) and the pool recovers.
      await sleepUntil(
        () => sql<{ one: number }>`select 1 as one`.execute(database.db).then((r) => r.rows[0]?.one === 1, () => false),
        { message: 'a query through a fresh connection' },
      );
    } finally {
      await database.close();
      await proxy.close();
    }
  });
});
