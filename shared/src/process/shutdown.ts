import type { Logger } from 'pino';

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, then exits 0 (1 if it threw). A second signal
 * exits at once, for an operator who does not want to wait.
 *
 * @example
 * onShutdownSignal(log, async () => { await worker.close(); });
 */
export function onShutdownSignal(log: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    shutdown().then(
      () => {
        log.info('shut down cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/**
 * Runs a service's start-up step (waiting for its database, say) so that SIGTERM or SIGINT
 * during it ends the process at once with 0: nothing runs yet that needs draining, and an
 * orchestrator stopping a service that never came up should see a clean exit, not a kill by
 * signal. The handlers are removed when the step ends, before the service's own are set.
 *
 * @example
 * const database = await exitCleanlyOnSignalDuring(log, () => openServiceDatabase(config, log));
 */
export async function exitCleanlyOnSignalDuring<T>(log: Logger, step: () => Promise<T>): Promise<T> {
  const handle = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopped while starting');
    process.exit(0);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  try {
    return await step();
  } finally {
    process.off('SIGTERM', handle);
    process.off('SIGINT', handle);
  }
}
