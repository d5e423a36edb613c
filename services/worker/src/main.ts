import { openServiceDatabase } from '@jobs/shared/db';
import { ConfigError, loadConfigOrExit } from '@jobs/shared/config';
import { createLogger } from '@jobs/shared/logger';
import { exitCleanlyOnSignalDuring, onShutdownSignal } from '@jobs/shared/process';
import { startTracingOrExit } from '@jobs/shared/tracing';
import { startWorkerService } from './worker-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });
// OTEL_* variables (SPEC §15); without an endpoint nothing of the SDK is loaded.
const tracing = await startTracingOrExit('jobs-worker', log);

if (config.isTest) {
  // Seed rule: under APP_ENV=test the entry point starts nothing; tests start workers themselves.
  log.info('APP_ENV=test: worker not started');
} else {
  const database = await exitCleanlyOnSignalDuring(log, () => openServiceDatabase(config, log));
  try {
    const service = await startWorkerService(config, log, { db: database.db });
    onShutdownSignal(log, async () => {
      await service.close();
      await database.close();
      await tracing.shutdown();
    });
  } catch (err) {
    // A bad signing key file is a configuration error: one line, like a bad variable.
    if (!(err instanceof ConfigError)) throw err;
    await database.close();
    process.stderr.write(`${err.message}\n`, () => process.exit(1));
  }
}
