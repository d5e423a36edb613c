import { openServiceDatabase } from '@jobs/shared/db';
import { ConfigError, loadConfigOrExit } from '@jobs/shared/config';
import { createLogger } from '@jobs/shared/logger';
import { exitCleanlyOnSignalDuring, onShutdownSignal } from '@jobs/shared/process';
import { startTracingOrExit } from '@jobs/shared/tracing';
import { startApiService } from './api-service.js';
import { authConfigured, AuthNotConfiguredError } from './auth/auth-policy.js';

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel, pretty: config.isLocal && process.stdout.isTTY });
// OTEL_* variables (SPEC §15); without an endpoint nothing of the SDK is loaded.
const tracing = await startTracingOrExit('jobs-api', log);

try {
  // Refuse before waiting on anything: a missing auth config is not going to appear.
  if (!config.isLocal && !authConfigured(config)) throw new AuthNotConfiguredError(config.appEnv);
  const database = await exitCleanlyOnSignalDuring(log, () => openServiceDatabase(config, log));
  const api = await startApiService(config, log, { db: database.db }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  onShutdownSignal(log, async () => {
    await api.close();
    await database.close();
    await tracing.shutdown();
  });
} catch (err) {
  // A refusal to start is one line on stderr, like a bad config value.
  if (!(err instanceof AuthNotConfiguredError || err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`, () => process.exit(1));
}
