import { openServiceDatabase } from '@jobs/shared/db';
import { loadConfigOrExit } from '@jobs/shared/config';
import { createLogger } from '@jobs/shared/logger';
import { exitCleanlyOnSignalDuring, onShutdownSignal } from '@jobs/shared/process';
import { startTracingOrExit } from '@jobs/shared/tracing';
import { startSchedulerService } from './scheduler-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });
// OTEL_* variables (SPEC §15); without an endpoint nothing of the SDK is loaded.
const tracing = await startTracingOrExit('jobs-scheduler', log);

const database = await exitCleanlyOnSignalDuring(log, () => openServiceDatabase(config, log));
const service = await startSchedulerService(config, log, { db: database.db }).catch(async (err: unknown) => {
  await database.close();
  throw err;
});
onShutdownSignal(log, async () => {
  await service.close();
  await database.close();
  await tracing.shutdown();
});
