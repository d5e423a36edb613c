import { context } from '@opentelemetry/api';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scopedLogger } from '../logger/logger.js';
import type { RedisKeys } from '../redis/namespace.js';
import { CANCELLED_REASON, isSupersededResult, type AbortMessage, type AbortReason } from './abort/abort-reason.js';
import { readEnvelope } from './envelope.js';
import { UnknownHandlerError } from './errors.js';
import { mirrorToJobLog } from './job-log-mirror.js';
import { RunContext } from './job-context.js';
import type { JobMetrics } from './job-metrics.js';
import { DEFAULT_ATTEMPTS } from './job-options.js';
import { parsePayload } from './payload.js';
import { jobRef } from './queues.js';
import { runJob } from './run-job.js';
import { startLimitSweeper } from './limits/limit-sweeper.js';
import { startRunSpan, type JobTracing, type RunSpan } from '../tracing/job-spans.js';
import type { HandlerMap, JobServices } from './types.js';

export interface ProcessorDeps {
  handlers: HandlerMap;
  /** The root logger; each job gets a child scoped `[worker][{handlerName}:{jobId}]`. */
  log: Logger;
  redis: Redis;
  keys: RedisKeys;
  services: JobServices;
  metrics: JobMetrics;
  /** Tells the abort listener which jobs run here, and what abort reached them. */
  aborts: {
    jobStarted(jobId: string): void;
    jobEnded(jobId: string): void;
    received(jobId: string): AbortMessage | undefined;
  };
  /**
   * Fires the `ctx.signal` of a job running here with `reason` (the worker's `cancelJob`); used
   * when the run itself finds it must stop, e.g. its singleton lock was lost.
   */
  abortRun(jobId: string, reason: AbortReason): void;
  /**
   * The client's default queue: jobs of other queues get `ctx.jobId` = `<queue>~<id>`, the id
   * the client and the API answer for them (BullMQ ids repeat across queues). Unset: every job's
   * `ctx.jobId` is its plain BullMQ id.
   */
  defaultQueue?: string;
  /**
   * Consumer spans (SPEC §15): each run gets one, the child of the context stored at enqueue, and
   * the handler runs inside it. None while tracing is off.
   */
  tracing?: JobTracing;
}

/** The BullMQ processor `(job, token, signal)`; the third parameter must stay declared (STACK.md). */
export type Processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

/** A completed run this slow (or a retry) is logged at info; quicker ones at debug. */
const NOTABLE_MS = 1_000;

/** Logs why `job` cannot run and returns the error that fails it without retries. */
function failed(baseLog: Logger, job: Job, message: string): UnrecoverableError {
  mirrorToJobLog(scopedLogger(baseLog, 'worker', `${job.name}:${job.id ?? ''}`), job).error(message);
  return new UnrecoverableError(message);
}

/**
 * Turns a BullMQ job into a handler call with the seed's error boundaries:
 * - unknown handler name → logged, the job fails without retries;
 * - envelope or payload that fails its schema → logged, fails without retries;
 * - handler throws → logged, re-thrown so BullMQ retries per `attempts`/backoff.
 */
export function createProcessor(deps: ProcessorDeps): Processor {
  const { handlers, log: baseLog, redis, keys, services, aborts, metrics, tracing } = deps;
  // Wakes jobs parked by a limit when their room frees by itself (jobs/limits/limit-sweeper.ts):
  // only where a handler has limits; it stops when the worker closes its Redis connection.
  const limitsOf = (name: string) => (Object.hasOwn(handlers, name) ? handlers[name]?.limitRules : undefined);
  const sweeper = Object.values(handlers).some((d) => d.limitRules) ? startLimitSweeper(redis, keys, limitsOf) : undefined;
  const runDeps = { redis, keys, abortOf: (id: string) => aborts.received(id), abortRun: deps.abortRun, limitDue: sweeper?.dueIn };
  // A processor, not an async function: BullMQ awaits the promise it returns, and every async
  // layer between BullMQ and the handler is a promise and a microtask per job.
  return function processJob(job, token, signal) {
    const handlerName = job.name;
    const def = Object.hasOwn(handlers, handlerName) ? handlers[handlerName] : undefined;
    // Rejected before any context exists: these jobs never run, so they cannot be cancelled.
    if (!def) return Promise.reject(failed(baseLog, job, new UnknownHandlerError(handlerName, Object.keys(handlers)).message));
    const read = readEnvelope(job.data);
    if (!read.ok) return Promise.reject(failed(baseLog, job, read.error));
    const { envelope } = read;
    let payload: unknown;
    try {
      payload = parsePayload(handlerName, def.schema, envelope.payload);
    } catch (err) {
      return Promise.reject(failed(baseLog, job, err instanceof Error ? err.message : String(err)));
    }

    const ref = deps.defaultQueue === undefined ? undefined : jobRef(job.queueName, job.id ?? '', deps.defaultQueue);
    const ctx = new RunContext({ job, ref, baseLog, type: envelope.type, cronJobId: envelope.cronJobId, maxAttempts: job.opts.attempts ?? DEFAULT_ATTEMPTS, signal, redis, services });
    const started = performance.now();
    aborts.jobStarted(job.id ?? '');
    if (baseLog.isLevelEnabled('debug')) ctx.log.debug({ type: ctx.type, attempt: ctx.attempt }, 'job started');
    const span: RunSpan | undefined = tracing?.on()
      ? startRunSpan(tracing.tracer, {
          queue: job.queueName,
          jobId: ref ?? job.id ?? '',
          handler: handlerName,
          type: envelope.type,
          attempt: ctx.attempt,
          maxAttempts: ctx.maxAttempts,
          carrier: envelope.trace,
        })
      : undefined;
    // The handler, its ctx.log lines, any span it makes and the outcome's log line run inside the run's context.
    return span ? context.with(span.context, settle) : settle();

    function settle(): Promise<unknown> {
      let running: Promise<unknown>;
      try {
        running = runJob(runDeps, def!, job, token, ctx, payload);
      } catch (err) {
        running = Promise.reject(err);
      }
      return running.then(
        (result) => {
          aborts.jobEnded(job.id ?? '');
          const seconds = (performance.now() - started) / 1000;
          if (isSupersededResult(result)) {
            metrics.record(job.queueName, handlerName, 'superseded', seconds);
            span?.end('superseded');
            return result;
          }
          metrics.record(job.queueName, handlerName, 'completed', seconds);
          span?.end('completed');
          // Every completion is counted in metrics; the log keeps the ones worth reading (slow or
          // retried) at info, so a busy worker does not spend a tenth of its time logging no-ops.
          const notable = seconds * 1000 >= NOTABLE_MS || ctx.attempt > 1;
          if (notable || baseLog.isLevelEnabled('debug')) ctx.log[notable ? 'info' : 'debug']({ type: ctx.type, attempt: ctx.attempt, durationMs: Math.round(seconds * 1000) }, 'job completed');
          return result;
        },
        (err: unknown) => {
          aborts.jobEnded(job.id ?? '');
          const seconds = (performance.now() - started) / 1000;
          if (err instanceof DelayedError) {
            metrics.record(job.queueName, handlerName, 'requeued', seconds);
            span?.end('requeued');
          } else if (err instanceof UnrecoverableError && err.message === CANCELLED_REASON) {
            metrics.record(job.queueName, handlerName, 'cancelled', seconds);
            span?.end('cancelled');
          } else {
            const willRetry = !(err instanceof UnrecoverableError) && ctx.attempt < ctx.maxAttempts;
            metrics.record(job.queueName, handlerName, willRetry ? 'retrying' : 'failed', seconds);
            span?.end(willRetry ? 'retrying' : 'failed', err);
            ctx.log.error({ err, type: ctx.type, attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, willRetry, durationMs: Math.round(seconds * 1000) }, 'job failed');
          }
          throw err;
        },
      );
    }
  };
}
