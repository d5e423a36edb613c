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
