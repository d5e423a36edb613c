import type { TracerProvider } from '@opentelemetry/api';
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger, scopedLogger } from '../logger/logger.js';
import { closeRedis, createRedis } from '../redis/connection.js';
import { queuePrefix, redisKeys } from '../redis/namespace.js';
import { isClusterUrl } from '../redis/redis-url.js';
import { createAbortListener } from './abort/abort-listener.js';
import { CANCELLED_REASON, isSupersededResult } from './abort/abort-reason.js';
import { createJobMetrics, noJobMetrics } from './job-metrics.js';
import { createProcessor } from './processor.js';
import { queueNamesOf } from './queues.js';
import { jobTracing } from '../tracing/job-spans.js';
import type { HandlerMap, JobServices } from './types.js';

export interface CreateWorkerOptions {
  /** Handler map made with `makeJob` & co. */
  handlers: HandlerMap;
  redisUrl?: string;
  /**
   * BullMQ key prefix (default `bull`). On Redis Cluster, `{jobs}` keeps every queue in one slot;
   * a prefix without a hash tag gives each queue a slot of its own (see `queuePrefix`).
   */
  prefix?: string;
  /** The default queue: handlers without a `queue` option (default `jobs`). */
  queueName?: string;
  /**
   * The queues this process runs, each with its own concurrency (SPEC §12 worker pools), e.g.
   * `{ critical: 20, jobs: 10 }`. Default: every queue the handlers name, each at `concurrency`.
   */
  queues?: Record<string, number>;
  /** Max parallel jobs per queue in this process (default 10). */
  concurrency?: number;
  /** A job whose lock is not renewed for this long is stalled and retried (default 5 min). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default: the lock duration, at most 30 s). */
  stalledIntervalMs?: number;
  /** How long `close()` waits for active jobs before aborting them (default 60 s). */
  shutdownTimeoutMs?: number;
  logger?: Logger;
  /** Handed to every handler as `ctx.services`. */
  services?: JobServices;
  /** Where to count runs (`jobs_processed_total`, `job_duration_seconds`); none if omitted. */
  metrics?: Registry;
  /**
   * Where run (consumer) spans go (SPEC §15); default: the global provider, a no-op unless an SDK
   * was registered (`startTracing`). Handlers run inside their run's context, so their own
   * `@opentelemetry/api` spans nest under it.
   */
  tracerProvider?: TracerProvider;
}

export interface JobWorker {
  /** The default queue's BullMQ worker (or the first queue's, if it does not run the default queue). */
  readonly worker: Worker;
  /** One BullMQ worker per queue this process runs, by queue name. */
  readonly workers: ReadonlyMap<string, Worker>;
  /** Resolves once connected and taking jobs on every queue. */
  waitUntilReady(): Promise<void>;
  /**
   * Stops taking jobs, waits for active ones up to the shutdown timeout, then aborts their
   * `ctx.signal` and closes every connection. Safe to call more than once.
   */
  close(): Promise<void>;
}

const DEFAULTS = { redisUrl: 'redis://127.0.0.1:6379', prefix: 'bull', queueName: 'jobs', concurrency: 10, lockDurationMs: 300_000, shutdownTimeoutMs: 60_000 };

/** After the shutdown timeout, how long aborted handlers get to return before a forced close. */
const ABORT_GRACE_MS = 5_000;

const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(resolve, ms, 'timeout').unref());

/**
 * The queues a worker runs and their concurrency: `queues` as given (checked), or every queue the
 * handlers name at `concurrency`. Throws a `TypeError` naming `queues` for a queue no handler
 * names (the default queue is always allowed) or a concurrency that is not a positive integer.
 *
 * @example
 * workerQueues({ a: makeJob(run, { queue: 'reports' }) }, 'jobs', undefined, 10); // Map { jobs → 10, reports → 10 }
 */
export function workerQueues(handlers: HandlerMap, defaultQueue: string, queues: Record<string, number> | undefined, concurrency: number): Map<string, number> {
  const known = queueNamesOf(handlers, defaultQueue);
  if (!queues) return new Map(known.map((name) => [name, concurrency]));
  const out = new Map<string, number>();
  for (const [name, n] of Object.entries(queues)) {
    if (!known.includes(name)) throw new TypeError(`queues names "${name}", which no handler uses (known queues: ${known.join(', ')})`);
    if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`queues.${name} must be a positive integer concurrency (got ${String(n)})`);
    out.set(name, n);
  }
  if (out.size === 0) throw new TypeError('queues must name at least one queue');
  return out;
}

/**
 * Starts a worker that runs `handlers` for jobs of their queues: one BullMQ worker per queue,
 * each with its own concurrency, so a backlog on one queue never takes the slots of another.
 *
 * @example
 * const worker = createWorker({ handlers: { myJob, report }, queues: { jobs: 10, reports: 2 } });
 * process.on('SIGTERM', () => worker.close());
 */
export function createWorker(options: CreateWorkerOptions): JobWorker {
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const plan = workerQueues(options.handlers, o.queueName, options.queues, o.concurrency);
  const rootLog = options.logger ?? createLogger();
  const log = scopedLogger(rootLog, 'worker');
  // Three connections of our own whatever the number of queues: BullMQ's (shared by the queues'
  // workers; each duplicates one more for its blocking reads), a non-blocking one for handlers
  // and locks, and the abort channel subscriber (one channel per queue). All ours to close.
  const connection = createRedis(o.redisUrl, 'worker');
  const handlerRedis = createRedis(o.redisUrl, 'worker');
  const subscriber = createRedis(o.redisUrl, 'subscriber');
  const cluster = isClusterUrl(o.redisUrl);
  const metrics = options.metrics ? createJobMetrics(options.metrics) : noJobMetrics;
  const tracing = jobTracing(options.tracerProvider);

  const pools = [...plan].map(([name, concurrency]) => startPool(name, concurrency));
  const workers: ReadonlyMap<string, Worker> = new Map(pools.map((p) => [p.name, p.worker]));
  const main = workers.get(o.queueName) ?? pools[0]!.worker;

  /** One queue's worker, its abort listener and processor, all on that queue's keys. */
  function startPool(name: string, concurrency: number) {
    const bullPrefix = queuePrefix(o.prefix, name, cluster);
    const keys = redisKeys(bullPrefix, name);
    // Declared before the worker exists; only called once it does.
    const aborts = createAbortListener({ subscriber, redis: handlerRedis, keys, log, abort: (m) => worker.cancelJob(m.jobId, m.reason) });
    const processor = createProcessor({
      handlers: options.handlers,
      log: rootLog,
      redis: handlerRedis,
      keys,
      services: options.services ?? {},
      aborts,
      // Through BullMQ's cancelJob, like the listener's aborts: ctx.signal stays BullMQ's one signal.
      abortRun: (jobId, reason) => void worker.cancelJob(jobId, reason),
      metrics,
      defaultQueue: o.queueName,
      tracing,
    });
    const worker = new Worker(name, processor, {
      connection,
      prefix: bullPrefix,
      concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs ?? Math.min(o.lockDurationMs, 30_000),
      // Start only once the abort channel is subscribed, so no job runs deaf to a cancel.
      autorun: false,
    });
    const running = aborts.ready.then(() => {
      void worker.run().catch((err: unknown) => log.error({ err, queue: name }, 'worker stopped'));
    });
    let lastError = '';
    worker.on('error', (err) => {
      // An outage repeats the same error on every reconnect attempt; log each distinct one once.
      if (err.message !== lastError) log.error({ err, queue: name }, 'worker error (will keep retrying)');
      lastError = err.message;
    });
    worker.on('ready', () => {
      if (lastError) log.info({ queue: name }, 'worker connected again');
      lastError = '';
    });
    worker.on('stalled', (jobId) => log.warn({ jobId, queue: name }, 'job stalled: its lock lapsed, it will run again'));
    // A cancelled or superseded job is finished for good: its abort flag has served (see request-abort.ts).
    const dropAbortFlag = (jobId: string | undefined) => void (jobId && handlerRedis.del(keys.abortFlag(jobId)).catch(() => undefined));
    worker.on('failed', (job, err) => {
      if (err.message === CANCELLED_REASON) dropAbortFlag(job?.id);
    });
    worker.on('completed', (job, result) => {
      if (isSupersededResult(result)) dropAbortFlag(job.id);
    });
    return { name, worker, aborts, running };
  }

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    const done = Promise.all(pools.map((p) => p.worker.close()));
    if ((await Promise.race([done, timeout(o.shutdownTimeoutMs)])) === 'timeout') {
      log.warn({ timeoutMs: o.shutdownTimeoutMs }, 'shutdown timeout reached: aborting active jobs');
      for (const p of pools) p.worker.cancelAllJobs('shutdown');
      if ((await Promise.race([done, timeout(ABORT_GRACE_MS)])) === 'timeout') {
        log.warn('active jobs ignored the abort: closing anyway; their locks will lapse and they will run again');
        await Promise.all(pools.map((p) => p.worker.close(true)));
      }
    }
    await Promise.all(pools.map((p) => p.aborts.close()));
    await Promise.all([closeRedis(connection), closeRedis(handlerRedis), closeRedis(subscriber)]);
  }

  return {
    worker: main,
    workers,
    waitUntilReady: () => Promise.all(pools.map((p) => p.running.then(() => p.worker.waitUntilReady()))).then(() => undefined),
    close: () => (closing ??= shutdown()),
  };
}

/** Drops `undefined` values so they do not override defaults in a spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
