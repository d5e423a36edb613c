import type { AnyJobDefinition, HandlerMap } from './types.js';

/** What a handler's `queue` option must match (SPEC §12). */
export const QUEUE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;

/**
 * The queue a handler's jobs go to: its own `queue`, or the default queue (`QUEUE_NAME`).
 *
 * @example
 * queueOf(makeJob(run, { queue: 'reports' }), 'jobs'); // 'reports'
 * queueOf(makeJob(run), 'jobs');                       // 'jobs'
 */
export function queueOf(def: Pick<AnyJobDefinition, 'queue'>, defaultQueue: string): string {
  return def.queue ?? defaultQueue;
}

/**
 * Every queue the handlers name: the default queue first (always, so existing jobs and
 * schedulers on it are served), then the others sorted.
 *
 * @example
 * queueNamesOf({ a: makeJob(run, { queue: 'reports' }), b: makeJob(run) }, 'jobs'); // ['jobs', 'reports']
 */
export function queueNamesOf(handlers: HandlerMap, defaultQueue: string): string[] {
  const others = new Set<string>();
  for (const def of Object.values(handlers)) if (def.queue !== undefined && def.queue !== defaultQueue) others.add(def.queue);
  return [defaultQueue, ...[...others].sort()];
}

// Job ids across queues (SPEC §12 "Ids").
//
// A job on the default queue keeps its plain BullMQ id, so existing callers, stored ids and
// URLs keep working. A job on another queue is `<queue>~<BullMQ id>`, e.g. `reports~42`.
// Why `~`: it is an RFC 3986 unreserved character, so the id goes into `/api/admin/job/:id` as
// it is; and no default-queue id reads `<queue name>~…`: BullMQ generates integers, scheduler
// runs are `repeat:<scheduler id>:<millis>` (a `:` before any `~`, and `:` is never in a queue
// name), and custom `jobId`s are `[\w.-]` (job-options.ts). `.`, `-` and `_` could not serve:
// custom ids and queue names contain them; `:` could not: it is in scheduler job ids. So a
// reference splits at its first `~` when what precedes it is a queue name, and any other id is
// the default queue's.

/** Separates the queue from the BullMQ id in a job reference. */
export const JOB_REF_SEPARATOR = '~';

/** Where a job lives: its queue and its id within that queue (BullMQ's). */
export interface JobLocation {
  queue: string;
  id: string;
}

/**
 * The id callers see for BullMQ job `id` on `queue`.
 *
 * @example
 * jobRef('jobs', '17', 'jobs');    // '17'
 * jobRef('reports', '17', 'jobs'); // 'reports~17'
 */
export function jobRef(queue: string, id: string, defaultQueue: string): string {
  return queue === defaultQueue ? id : `${queue}${JOB_REF_SEPARATOR}${id}`;
}

/**
 * Where the job with caller id `ref` lives: `<queue>~<id>` names a queue (that matches
 * {@link QUEUE_NAME_PATTERN}); anything else is a default-queue id. Returns undefined for an
 * empty id.
 *
 * @example
 * parseJobRef('reports~17', 'jobs');            // { queue: 'reports', id: '17' }
 * parseJobRef('repeat:nightly:1700000000', 'jobs'); // { queue: 'jobs', id: 'repeat:nightly:1700000000' }
 */
export function parseJobRef(ref: string, defaultQueue: string): JobLocation | undefined {
  const at = ref.indexOf(JOB_REF_SEPARATOR);
  if (at === -1) return ref ? { queue: defaultQueue, id: ref } : undefined;
  const queue = ref.slice(0, at);
  const id = ref.slice(at + 1);
  if (!id || !QUEUE_NAME_PATTERN.test(queue)) return ref ? { queue: defaultQueue, id: ref } : undefined;
  return { queue, id };
}
