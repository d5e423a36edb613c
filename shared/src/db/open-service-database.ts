import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { createDatabase, type DatabaseHandle } from './database.js';
import { isDatabaseUnavailable } from './db-errors.js';
import { migrateToLatest } from './migrator.js';

/**
 * Opens a service's database from the config, waiting (and saying so, once) while Postgres is
 * unreachable instead of exiting: a service started before its database, or during a Postgres
 * restart, comes up when the database does. A wrong URL, password or database name still fails
 * at once. Migrates in local, where there is no separate migrate step.
 *
 * @example
 * const database = await openServiceDatabase(config, log);
 */
export async function openServiceDatabase(config: Config, log: Logger, options: { retryMs?: number } = {}): Promise<DatabaseHandle> {
  const onError = (err: Error) => log.warn({ err: { message: err.message } }, 'idle database connection failed');
  let lastError = '';
  for (;;) {
    try {
      const { statementTimeoutMs: statementMs, queryTimeoutMs: queryMs, connectTimeoutMs: connectMs } = config.database;
      const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onError, timeouts: { statementMs, queryMs, connectMs } });
      if (lastError) log.info('database reachable');
      // Deployments migrate in a separate step (`npm run migrate`) so replicas never race on it.
      if (config.isLocal) await migrateToLatest(database.db);
      return database;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const message = err instanceof Error && err.message ? err.message : String((err as { code?: string }).code ?? err);
      if (message !== lastError) log.warn({ err: { message } }, 'database unreachable: waiting for it');
      lastError = message;
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 2_000));
    }
  }
}
