import { createLogger, loadConfigOrExit, onShutdownSignal } from '@jobs/shared';
import { startSchedulerService } from './scheduler-service.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });

const scheduler = await startSchedulerService(config, log);
onShutdownSignal(log, () => scheduler.close());
