import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/namespace.js';
import { withProducerSpan, type JobTracing } from '../tracing/job-spans.js';
import type { TraceCarrier } from '../tracing/trace-carrier.js';
import { makeEnvelope } from './envelope.js';
import { JobOptionsError, JobPayloadError, QueueUnavailableError, UnknownHandlerError } from './errors.js';
import { toBullJobOptions } from './job-options.js';
import { supersedeOlder } from './patterns/supersede.js';
import { parsePayload, resolveHandler } from './payload.js';
import type { AnyJobDefinition, EnqueueOptions, HandlerMap, PayloadOf } from './types.js';

/** At most this many jobs in one `enqueueJobs` call or `POST /api/admin/job/batch` (SPEC §13). */
export const MAX_BATCH_JOBS = 1_000;

/**
 * One job of a batch, typed by its handler: `payload` must be the payload type of `handler`
 * (a discriminated union over the handler map, so a wrong payload is a compile error).
 */
export type BulkJob<H extends HandlerMap> = {
  [K in keyof H & string]: { handler: K; payload: PayloadOf<H[K]>; options?: EnqueueOptions };
}[keyof H & string];

/**
 * A job of a batch is invalid: `index` is its place in the batch (0-based), `cause` the error an
 * `enqueueJob` of it alone would have thrown, and `field` names what is wrong from the batch
 * down (`jobs[17].payload.userId`, `jobs[3].handler`, `jobs[0].options.delay`).
 */
export class BatchJobError extends Error {
  override name = 'BatchJobError';
  readonly code = 'invalid_batch_job';
  readonly field: string;
  constructor(
    readonly index: number,
    override readonly cause: UnknownHandlerError | JobPayloadError | JobOptionsError,
  ) {
    const field = `jobs[${index}].${fieldOf(cause)}`;
    super(`${field}: ${cause.message}`, { cause });
    this.field = field;
  }
}

function fieldOf(cause: UnknownHandlerError | JobPayloadError | JobOptionsError): string {
  if (cause instanceof UnknownHandlerError) return 'handler';
  if (cause instanceof JobPayloadError) return cause.issues[0]?.path ?? 'payload';
  return cause.field;
}

/** A validated job of a batch, ready to add. */
export interface PreparedJob {
  handler: string;
  def: AnyJobDefinition;
  payload: unknown;
  opts: JobsOptions;
  delay: number | undefined;
}

/**
 * Validates every job of a batch before anything is added (all or nothing), exactly as
 * `enqueueJob` validates one: handler known, payload through its schema (defaults applied),
 * options in range. Throws {@link BatchJobError} naming the first invalid job, or
 * `JobOptionsError('jobs')` for an empty batch or one over {@link MAX_BATCH_JOBS}.
 */
export function prepareBulkJobs(handlers: HandlerMap, jobs: readonly { handler: string; payload: unknown; options?: EnqueueOptions }[]): PreparedJob[] {
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > MAX_BATCH_JOBS) {
    throw new JobOptionsError('jobs', `must hold 1–${MAX_BATCH_JOBS} jobs (got ${Array.isArray(jobs) ? jobs.length : typeof jobs})`);
  }
  return jobs.map((job, index) => {
    try {
      const def = resolveHandler(handlers, job.handler);
      const payload = parsePayload(job.handler, def.schema, job.payload);
      const options = job.options ?? {};
      return { handler: job.handler, def, payload, opts: toBullJobOptions(job.handler, def, options), delay: options.delay };
    } catch (err) {
      if (err instanceof UnknownHandlerError || err instanceof JobPayloadError || err instanceof JobOptionsError) throw new BatchJobError(index, err);
      throw err;
    }
  });
}

/** Where a handler's jobs go: its queue, that queue's keys, and how its ids look to callers. */
export interface BulkTarget {
  queue: Queue;
  keys: RedisKeys;
  /** The id callers see for BullMQ id `id` on this queue (identity on the default queue). */
  ref(id: string): string;
}

export interface BulkDeps {
  /** The producer connection (order stamps). */
  redis: Redis;
  targetOf(handler: string): BulkTarget;
  /** Abort flag lifetime for superseded running jobs (see request-abort.ts). */
  flagTtlMs?: number;
  /** Producer spans: one per queue's transaction, when on (see below). */
  tracing?: JobTracing;
}

/**
 * Adds prepared jobs as if each had been enqueued alone, in batch order, in one Redis
 * transaction per queue:
 *
 * - Superseding jobs take consecutive order stamps (one INCRBY per queue) before the add, in
 *   batch order, so a later job of the batch is newer than an earlier one with the same key and
 *   than any job enqueued before the batch; after the add each is handed over (older waiting job
 *   removed, running one told) in batch order per key.
 * - `dedupeKey` needs nothing special: BullMQ's add script runs job by job inside the
 *   transaction, so the second job with an equal key finds the first and answers its id.
 * - Each queue's jobs go in one MULTI/EXEC (BullMQ's own `addBulk` is a plain pipeline, of which
 *   a cut connection can leave a prefix added): Redis runs all of them or, when the connection
 *   drops before EXEC, none. Across queues there is one transaction each, in order of first
 *   appearance; a failure between two leaves the earlier queues' jobs added (the caller gets an
 *   error; with derived job ids, e.g. the API's Idempotency-Key, a retry adds only the rest).
 *
 * - Tracing (SPEC §15): one PRODUCER span per queue's transaction (`send <queue>`,
 *   `messaging.batch.message_count`), not one per job; every job of it stores that span's context,
 *   so each job's runs are its children. A batch of 1,000 is one span, not 1,000.
 *
 * Returns the ids in batch order (callers' ids: `ref` of the BullMQ ids).
 */
export async function addBulkJobs(deps: BulkDeps, jobs: readonly PreparedJob[]): Promise<string[]> {
  type Entry = { index: number; job: PreparedJob; latestKey: string | undefined; stamp: number | undefined };
  const groups = new Map<Queue, { target: BulkTarget; entries: Entry[]; superseding: number }>();
  jobs.forEach((job, index) => {
    const target = deps.targetOf(job.handler);
    let group = groups.get(target.queue);
    if (!group) groups.set(target.queue, (group = { target, entries: [], superseding: 0 }));
    const latestKey = job.def.pattern === 'superseding' && job.def.keyOf ? target.keys.supersedeLatest(job.handler, job.def.keyOf(job.payload)) : undefined;
    if (latestKey) group.superseding++;
    group.entries.push({ index, job, latestKey, stamp: undefined });
  });

  const ids: string[] = new Array<string>(jobs.length);
  for (const { target, entries, superseding } of groups.values()) {
    if (superseding > 0) {
      // Consecutive stamps for the batch's superseding jobs, handed out in batch order.
      let stamp = (await deps.redis.incrby(target.keys.supersedeSeq, superseding)) - superseding;
      for (const entry of entries) if (entry.latestKey) entry.stamp = ++stamp;
    }
    const add = (carrier: TraceCarrier | undefined) =>
      addInOneTransaction(
        target.queue,
        entries.map(({ job, stamp }) => ({ name: job.handler, data: makeEnvelope(job.payload, 'adhoc', undefined, stamp, carrier), opts: job.opts })),
      );
    const tracing = deps.tracing;
    const added = tracing?.on() ? await withProducerSpan(tracing.tracer, { queue: target.queue.name, count: entries.length }, add) : await add(undefined);
    entries.forEach((entry, i) => (ids[entry.index] = target.ref(added[i]!)));
    // Handovers of this queue's jobs before the next queue's add, so a failure there leaves the
    // jobs already added fully enqueued (superseding included). Sequential per key, in batch
    // order; keys in parallel. The stamps already decide who wins; the order only keeps the Redis
    // work what one-by-one enqueues would have done.
    const byKey = new Map<string, { entry: Entry; id: string }[]>();
    entries.forEach((entry, i) => {
      if (!entry.latestKey) return;
      const chain = byKey.get(entry.latestKey);
      if (chain) chain.push({ entry, id: added[i]! });
      else byKey.set(entry.latestKey, [{ entry, id: added[i]! }]);
    });
    const supersedeDeps = { queue: target.queue, redis: deps.redis, keys: target.keys, flagTtlMs: deps.flagTtlMs };
    await Promise.all(
      [...byKey].map(async ([latestKey, chain]) => {
        for (const { entry, id } of chain) await supersedeOlder(supersedeDeps, latestKey, id, { stamp: entry.stamp, delayMs: entry.job.delay });
      }),
    );
  }
  return ids;
}

/**
 * `queue.addBulk`, but in one MULTI/EXEC instead of a pipeline: all of the jobs or none.
 * Uses the same BullMQ add scripts (`addJobToTransaction`, which BullMQ keeps public for flows).
 * Returns the ids the scripts answered (a deduplicated job answers the existing job's id; a job
 * id that exists answers itself and adds nothing).
 */
async function addInOneTransaction(queue: Queue, specs: { name: string; data: unknown; opts: JobsOptions }[]): Promise<string[]> {
  const client = await queue.backend.client;
  const multi = client.multi();
  for (const spec of specs) {
    const job = new Job(queue, spec.name, spec.data, spec.opts, spec.opts.jobId);
    // Queues the add script on the transaction synchronously; nothing is sent before exec().
    await queue.backend.addJobToTransaction(multi, job.asJSON(), job.id!);
  }
  const results = await multi.exec();
  if (!results) throw new QueueUnavailableError('the batch transaction was aborted');
  return results.map(([err, id]) => {
    if (err) throw err;
    if (typeof id === 'number' && id < 0) throw new Error(`BullMQ refused a job of the batch (code ${id})`);
    return String(id);
  });
}
