import { ConfigError, createDatabase, createLogger, loadConfigOrExit, migrateToLatest, onShutdownSignal } from '@jobs/shared';
import { startApiService } from './api-service.js';
import { AuthNotConfiguredError } from './auth/auth-policy.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

try {
  const database = await createDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  // Deployments migrate in a separate step (`npm run migrate`) so replicas never race on it.
  if (config.isLocal) await migrateToLatest(database.db);
  const api = await startApiService(config, log, { db: database.db }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  onShutdownSignal(log, async () => {
    await api.close();
    await database.close();
  });
} catch (err) {
  // A refusal to start is one line on stderr, like a bad config value.
  if (!(err instanceof AuthNotConfiguredError || err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`, () => process.exit(1));
}
