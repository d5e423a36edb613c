import { createDatabase, createLogger, loadConfigOrExit, migrateToLatest, onShutdownSignal, scopedLogger } from '@jobs/shared';
import { startSchedulerService } from './scheduler-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

const database = await createDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  onError: (err) => scopedLogger(log, 'scheduler').warn({ err }, 'idle database connection failed'),
});
// Deployments migrate with `npm run migrate` (a job of its own); only a local run does it here.
if (config.isLocal) await migrateToLatest(database.db);

const service = await startSchedulerService(config, log, { db: database.db }).catch(async (err: unknown) => {
  await database.close();
  throw err;
});
onShutdownSignal(log, async () => {
  await service.close();
  await database.close();
});
