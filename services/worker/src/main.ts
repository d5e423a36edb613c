import { createLogger, loadConfigOrExit, onShutdownSignal } from '@jobs/shared';
import { startWorkerService } from './worker-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

if (config.isTest) {
  // Seed rule: under APP_ENV=test the entry point starts nothing; tests start workers themselves.
  log.info('APP_ENV=test: worker not started');
} else {
  const service = await startWorkerService(config, log);
  onShutdownSignal(log, () => service.close());
}
