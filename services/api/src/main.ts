import { createDatabase, createLogger, loadConfigOrExit, migrateToLatest, onShutdownSignal } from '@jobs/shared';
import { startApiService } from './api-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

const database = await createDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  onError: (err) => log.warn({ err }, 'idle database connection failed'),
});
// Deployments migrate in a separate step (`npm run migrate`) so replicas never race on it.
if (config.isLocal) await migrateToLatest(database.db);

const api = await startApiService(config, log, { db: database.db });
onShutdownSignal(log, async () => {
  await api.close();
  await database.close();
});
