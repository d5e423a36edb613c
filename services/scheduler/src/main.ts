import { createLogger, exitCleanlyOnSignalDuring, loadConfigOrExit, onShutdownSignal, openServiceDatabase } from '@jobs/shared';
import { startSchedulerService } from './scheduler-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

const database = await exitCleanlyOnSignalDuring(log, () => openServiceDatabase(config, log));
const service = await startSchedulerService(config, log, { db: database.db }).catch(async (err: unknown) => {
  await database.close();
  throw err;
});
onShutdownSignal(log, async () => {
  await service.close();
  await database.close();
});
