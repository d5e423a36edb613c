import type { TracerProvider } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../redis/connection.js';
import { queuePrefix, redisKeys, type RedisKeys } from '../redis/namespace.js';
import { isClusterUrl } from '../redis/redis-url.js';
import { abortFlagTtlMs, DEFAULT_ABORT_FLAG_TTL_MS } from './abort/request-abort.js';
import { cancelJob, type CancelResult } from './cancel-job.js';
import { addBulkJobs, prepareBulkJobs, type BulkDeps, type BulkJob } from './enqueue-bulk.js';
import { makeEnvelope, readEnvelope } from './envelope.js';
import { toBullJobOptions } from './job-options.js';
import { toJobInfo, type JobInfo } from './job-info.js';
import { redisCall } from './redis-call.js';
import { QueueUnavailableError } from './errors.js';
import { supersedeOlder, takeSupersedeSeq } from './patterns/supersede.js';
import { parsePayload, resolveHandler } from './payload.js';
import { jobRef, parseJobRef, queueNamesOf, queueOf } from './queues.js';
import { jobTracing, withProducerSpan } from '../tracing/job-spans.js';
import type { TraceCarrier } from '../tracing/trace-carrier.js';
import type { EnqueueOptions, HandlerMap, PayloadOf } from './types.js';

export interface CreateJobClientOptions<H extends HandlerMap> {
  handlers: H;
  redisUrl?: string;
  /**
   * BullMQ key prefix (default `bull`). On Redis Cluster, `{jobs}` keeps every queue in one slot;
   * a prefix without a hash tag gives each queue a slot of its own (see `queuePrefix`).
   */
  prefix?: string;
  /** The default queue: handlers without a `queue` option (default `jobs`). */
  queueName?: string;
  /** Use this connection instead of opening one; the client then does not close it. */
  connection?: Redis;
  /** How long a call may wait for Redis before failing with `QueueUnavailableError` (default 5 s). */
  timeoutMs?: number;
  /**
   * The workers' lock duration (`WORKER_LOCK_DURATION_MS`, default 5 min). A cancel or supersede
   * of a running job leaves a flag that a restarted run reads; it must outlive a stall of that
   * job, so its TTL is derived from this (see `abortFlagTtlMs`).
   */
  workerLockDurationMs?: number;
  /**
   * Where enqueue (producer) spans go (SPEC §15); default: the global provider, which is a no-op
   * unless an SDK was registered (`startTracing`). The W3C context is propagated with the
   * globally registered propagator.
   */
  tracerProvider?: TracerProvider;
}

export interface JobClient<H extends HandlerMap> {
  /**
   * Validates and enqueues a job; returns its id. With `dedupeKey`, the id of an equal job that
   * has not finished yet is returned and nothing is added.
   * Throws `UnknownHandlerError`, `JobPayloadError` or `JobOptionsError` for bad input.
   */
  enqueueJob<K extends keyof H & string>(name: K, payload: PayloadOf<H[K]>, options?: EnqueueOptions): Promise<string>;
  /**
   * Enqueues 1–1,000 jobs as if one by one, in order (dedupe and supersede included), with one
   * Redis transaction per queue; returns their ids in order. All are validated first: if any is
   * invalid, none is added (`BatchJobError` naming `jobs[i]…`). See enqueue-bulk.ts for what a
   * failure between two queues leaves.
   *
   * @example
   * await client.enqueueJobs([{ handler: 'myJob', payload: { userId: 'u1' } }, { handler: 'other', payload: {}, options: { delay: 1000 } }]);
   */
  // Generic in J (not `readonly BulkJob<H>[]` directly) so JobClient<Registry> still converts to JobClient<HandlerMap>.
  enqueueJobs<J extends BulkJob<H>>(jobs: readonly J[]): Promise<string[]>;
  /** The job's state and outcome, or `undefined` if there is no such job (or it was trimmed). */
  getJob(id: string): Promise<JobInfo | undefined>;
  /**
   * Cancels a job: removes it if it has not started, otherwise aborts its `ctx.signal` on
   * whichever worker process runs it; it then ends as cancelled, without retry.
   */
  cancelJob(id: string): Promise<CancelResult>;
  /** The default queue's BullMQ queue (`queueName`). */
  readonly queue: Queue;
  /** Every queue its handlers name, the default queue first; they share one Redis connection. */
  readonly queues: ReadonlyMap<string, Queue>;
  /** The queue a handler's jobs go to (the default queue for a name it does not know). */
  queueOf(handler: string): string;
  close(): Promise<void>;
}

/** One queue of a client: BullMQ's queue object and this project's keys beside it. */
interface QueueHandle {
  name: string;
  queue: Queue;
  keys: RedisKeys;
}

/**
 * A producer for any handler map: enqueue, inspect and cancel jobs. Each handler's jobs go to
 * its queue (`queue` option, else `queueName`); ids of jobs on other queues than the default
 * one read `<queue>~<id>` (see queues.ts), and `getJob`/`cancelJob` take ids of any queue.
 *
 * @example
 * const client = createJobClient({ handlers: { myJob } });
 * const id = await client.enqueueJob('myJob', { userId: 'u1', action: 'x' }, { delay: 5000 });
 */
export function createJobClient<H extends HandlerMap>(options: CreateJobClientOptions<H>): JobClient<H> {
  const { handlers, timeoutMs = 5_000 } = options;
  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
  const connection = options.connection ?? createRedis(redisUrl, 'producer');
  const defaultQueue = options.queueName ?? 'jobs';
  const prefix = options.prefix ?? 'bull';
  const cluster = (connection as unknown as { isCluster?: boolean }).isCluster === true || (!options.connection && isClusterUrl(redisUrl));
  const flagTtlMs = options.workerLockDurationMs ? abortFlagTtlMs(options.workerLockDurationMs) : DEFAULT_ABORT_FLAG_TTL_MS;
  // One Queue per queue name, all on the one connection (BullMQ shares a connection it is handed).
  const handles = new Map<string, QueueHandle>();
  for (const name of queueNamesOf(handlers, defaultQueue)) {
    const bullPrefix = queuePrefix(prefix, name, cluster);
    const queue = new Queue(name, { connection, prefix: bullPrefix });
    queue.on('error', () => {}); // surfaced to the caller as rejected promises instead
    handles.set(name, { name, queue, keys: redisKeys(bullPrefix, name) });
  }
  const defaultHandle = handles.get(defaultQueue)!;
  const queues: ReadonlyMap<string, Queue> = new Map([...handles].map(([name, h]) => [name, h.queue]));
  const handlerQueue = (name: string) => (Object.hasOwn(handlers, name) ? queueOf(handlers[name]!, defaultQueue) : defaultQueue);
  const depsOf = (h: QueueHandle) => ({ queue: h.queue, redis: connection, keys: h.keys, flagTtlMs });
  const tracing = jobTracing(options.tracerProvider);
  const bulkDeps: BulkDeps = {
    redis: connection,
    flagTtlMs,
    tracing,
    targetOf: (handler) => {
      const h = handles.get(handlerQueue(handler))!;
      return { queue: h.queue, keys: h.keys, ref: (id) => jobRef(h.name, id, defaultQueue) };
    },
  };
  /** The queue and BullMQ id of caller id `ref`; undefined for a queue this client does not serve. */
  const locate = (ref: string) => {
    const at = parseJobRef(ref, defaultQueue);
    const handle = at && handles.get(at.queue);
    return handle && at ? { handle, id: at.id } : undefined;
  };

  /** The "latest" pointer of a superseding job, from its stored name and data; undefined for others. */
  const latestKeyOf = (keys: RedisKeys) => (name: string, data: unknown): string | undefined => {
    const def = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (def?.pattern !== 'superseding' || !def.keyOf) return undefined;
    const read = readEnvelope(data);
    if (!read.ok) return undefined;
    try {
      return keys.supersedeLatest(name, def.keyOf(read.envelope.payload));
    } catch {
      return undefined; // a key function that fails on this payload: the job never had a pointer
    }
  };

  /**
   * Fails fast while Redis is unreachable: BullMQ would otherwise wait for the connection
   * forever, and an HTTP caller needs a 503 now, not a hung request. The timeout catches a
   * Redis that accepts connections but does not answer.
   */
  async function guarded<T>(op: () => Promise<T>): Promise<T> {
    if (connection.status !== 'ready') {
      // Give a connection that is still opening (first use) a moment before giving up.
      if (!['connecting', 'connect', 'wait'].includes(connection.status)) throw new QueueUnavailableError(`connection is ${connection.status}`);
      await waitReady(connection, timeoutMs);
    }
    return redisCall(op, timeoutMs);
  }


  return {
    queue: defaultHandle.queue,
    queues,
    queueOf: handlerQueue,
    async enqueueJob(name, payload, enqueueOptions = {}) {
      const def = resolveHandler(handlers, name);
      const parsed = parsePayload(name, def.schema, payload);
      const opts = toBullJobOptions(name, def, enqueueOptions);
      const handle = handles.get(queueOf(def, defaultQueue))!;
      const add = (carrier: TraceCarrier | undefined) =>
        guarded(async () => {
          const latestKey = def.pattern === 'superseding' && def.keyOf ? handle.keys.supersedeLatest(name, def.keyOf(parsed)) : undefined;
          // A superseding job's order stamp is taken before the add, so "newest" is decided by
          // Redis, not by which handover arrives last (see patterns/supersede.ts).
          const stamp = latestKey ? await takeSupersedeSeq(connection, handle.keys) : undefined;
          const job = await handle.queue.add(name, makeEnvelope(parsed, enqueueOptions.type, enqueueOptions.cronJobId, stamp, carrier), opts);
          const id = job.id!;
          if (latestKey) await supersedeOlder(depsOf(handle), latestKey, id, { stamp, delayMs: enqueueOptions.delay });
          return jobRef(handle.name, id, defaultQueue);
        });
      // With tracing off: no span, no context string in the job (see tracing/tracing-state.ts).
      if (!tracing.on()) return add(undefined);
      return withProducerSpan(tracing.tracer, { queue: handle.name, handler: name, type: enqueueOptions.type ?? 'adhoc' }, add);
    },
    async enqueueJobs(jobs) {
      const prepared = prepareBulkJobs(handlers, jobs);
      return guarded(() => addBulkJobs(bulkDeps, prepared));
    },
    cancelJob: (ref) =>
      guarded(async () => {
        const at = locate(ref);
        return at ? cancelJob({ ...depsOf(at.handle), latestKeyOf: latestKeyOf(at.handle.keys) }, at.id) : 'not_found';
      }),
    getJob: (ref) =>
      guarded(async () => {
        const at = locate(ref);
        if (!at) return undefined;
        const state = await at.handle.queue.getJobState(at.id);
        const job = state === 'unknown' ? undefined : await at.handle.queue.getJob(at.id);
        return job ? toJobInfo(job, state, defaultQueue) : undefined;
      }),
    async close() {
      await Promise.all([...handles.values()].map((h) => h.queue.close()));
      if (!options.connection) await closeRedis(connection);
    },
  };
}

function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new QueueUnavailableError('connection ended'));
    const waitMs = Math.min(timeoutMs, 2_000);
    const timer = setTimeout(() => done(new QueueUnavailableError(`not connected within ${waitMs} ms`)), waitMs);
    redis.once('ready', onReady);
    redis.once('end', onEnd);
  });
}
