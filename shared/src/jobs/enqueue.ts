import { loadConfig } from '../config/config.js';
import { jobHandlers, type JobPayloads } from './handlers/index.js';
import { createJobClient, type JobClient } from './job-client.js';
import type { EnqueueOptions, PayloadOf } from './types.js';

let defaultClient: JobClient<typeof jobHandlers> | undefined;

/** The client behind the module-level {@link enqueueJob}, made on first use from the config. */
export function getDefaultJobClient(): JobClient<typeof jobHandlers> {
  if (!defaultClient) {
    const config = loadConfig();
    defaultClient = createJobClient({
      handlers: jobHandlers,
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      queueName: config.queueName,
      workerLockDurationMs: config.worker.lockDurationMs,
    });
  }
  return defaultClient;
}

/**
 * Enqueues a job of the built-in registry (seed). Returns the job id.
 *
 * @example
 * await enqueueJob('echo', { message: 'hello' }, { delay: 5000, priority: 1, attempts: 3 });
 */
export function enqueueJob<K extends keyof JobPayloads & string>(
  name: K,
  payload: PayloadOf<(typeof jobHandlers)[K]>,
  options?: EnqueueOptions,
): Promise<string> {
  return getDefaultJobClient().enqueueJob(name, payload, options);
}

/** Closes the default client's connection (for scripts that must exit). */
export async function closeDefaultJobClient(): Promise<void> {
  const client = defaultClient;
  defaultClient = undefined;
  await client?.close();
}
