import { QUEUE_NAME_PATTERN } from '../jobs/queues.js';

/**
 * Parses `WORKER_QUEUES` (SPEC §12 worker pools): comma-separated `name` or `name:concurrency`,
 * e.g. `critical:20,jobs:10,reports:2`; a bare name takes `defaultConcurrency`
 * (`WORKER_CONCURRENCY`). Empty or unset → undefined (every queue of the registry). Throws an
 * `Error` whose message says what is wrong (the caller names the variable); whether each queue
 * exists is checked against the registry when the worker starts.
 *
 * @example
 * parseWorkerQueues('critical:20,jobs', 10); // { critical: 20, jobs: 10 }
 */
export function parseWorkerQueues(text: string | undefined, defaultConcurrency: number, defaultQueue?: string): Record<string, number> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const out: Record<string, number> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) throw new Error(`has an empty entry in "${text}" (expected name or name:concurrency, comma-separated)`);
    const colon = entry.indexOf(':');
    const name = colon === -1 ? entry : entry.slice(0, colon);
    const count = colon === -1 ? undefined : entry.slice(colon + 1);
    if (!QUEUE_NAME_PATTERN.test(name) && name !== defaultQueue) throw new Error(`has a bad queue name "${name}" (lower-case letter, then lower-case letters, digits or "-")`);
    if (Object.hasOwn(out, name)) throw new Error(`names queue "${name}" twice`);
    if (count !== undefined && !/^[1-9]\d{0,4}$/.test(count)) throw new Error(`has a bad concurrency "${count}" for queue "${name}" (an integer 1–99999)`);
    out[name] = count === undefined ? defaultConcurrency : Number(count);
  }
  return out;
}
