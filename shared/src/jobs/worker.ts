import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger, scopedLogger } from '../logger/logger.js';
import { closeRedis, createRedis } from '../redis/connection.js';
import { redisKeys } from '../redis/namespace.js';
import { createAbortListener } from './abort/abort-listener.js';
import { CANCELLED_REASON, isSupersededResult } from './abort/abort-reason.js';
import { createJobMetrics, noJobMetrics } from './job-metrics.js';
import { createProcessor } from './processor.js';
import type { HandlerMap, JobServices } from './types.js';

export interface CreateWorkerOptions {
  /** Handler map made with `makeJob` & co. */
  handlers: HandlerMap;
  redisUrl?: string;
  /** BullMQ key prefix (default `bull`; `{jobs}` on Redis Cluster). */
  prefix?: string;
  queueName?: string;
  /** Max parallel jobs in this process (default 10). */
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
}

export interface JobWorker {
  /** The BullMQ worker underneath, for events and advanced use. */
  readonly worker: Worker;
  /** Resolves once connected and taking jobs. */
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
 * Starts a worker that runs `handlers` for jobs of the queue.
 *
 * @example
 * const worker = createWorker({ handlers: { myJob }, concurrency: 10 });
 * process.on('SIGTERM', () => worker.close());
 */
export function createWorker(options: CreateWorkerOptions): JobWorker {
  const o = { ...DEFAULTS, ...definedOnly(options) };
  const rootLog = options.logger ?? createLogger();
  const log = scopedLogger(rootLog, 'worker');
  // Three connections of our own: BullMQ's (it duplicates one more for blocking reads), a
  // non-blocking one for handlers and locks, and the abort channel subscriber. All ours to close.
  const connection = createRedis(o.redisUrl, 'worker');
  const handlerRedis = createRedis(o.redisUrl, 'worker');
  const subscriber = createRedis(o.redisUrl, 'subscriber');
  const keys = redisKeys(o.prefix, o.queueName);

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
    metrics: options.metrics ? createJobMetrics(options.metrics) : noJobMetrics,
  });
  const worker = new Worker(o.queueName, processor, {
    connection,
    prefix: o.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs ?? Math.min(o.lockDurationMs, 30_000),
    // Start only once the abort channel is subscribed, so no job runs deaf to a cancel.
    autorun: false,
  });
  const running = aborts.ready.then(() => {
    void worker.run().catch((err: unknown) => log.error({ err }, 'worker stopped'));
  });
  let lastError = '';
  worker.on('error', (err) => {
    // An outage repeats the same error on every reconnect attempt; log each distinct one once.
    if (err.message !== lastError) log.error({ err }, 'worker error (will keep retrying)');
    lastError = err.message;
  });
  worker.on('ready', () => {
    if (lastError) log.info('worker connected again');
    lastError = '';
  });
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled: its lock lapsed, it will run again'));
  // A cancelled or superseded job is finished for good: its abort flag has served (see request-abort.ts).
  const dropAbortFlag = (jobId: string | undefined) => void (jobId && handlerRedis.del(keys.abortFlag(jobId)).catch(() => undefined));
  worker.on('failed', (job, err) => {
    if (err.message === CANCELLED_REASON) dropAbortFlag(job?.id);
  });
  worker.on('completed', (job, result) => {
    if (isSupersededResult(result)) dropAbortFlag(job.id);
  });

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    const done = worker.close();
    if ((await Promise.race([done, timeout(o.shutdownTimeoutMs)])) === 'timeout') {
      log.warn({ timeoutMs: o.shutdownTimeoutMs }, 'shutdown timeout reached: aborting active jobs');
      worker.cancelAllJobs('shutdown');
      if ((await Promise.race([done, timeout(ABORT_GRACE_MS)])) === 'timeout') {
        log.warn('active jobs ignored the abort: closing anyway; their locks will lapse and they will run again');
        await worker.close(true);
      }
    }
    await aborts.close();
    await Promise.all([closeRedis(connection), closeRedis(handlerRedis), closeRedis(subscriber)]);
  }

  return {
    worker,
    waitUntilReady: () => running.then(() => worker.waitUntilReady()).then(() => undefined),
    close: () => (closing ??= shutdown()),
  };
}

/** Drops `undefined` values so they do not override defaults in a spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
