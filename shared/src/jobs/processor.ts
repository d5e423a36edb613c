import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scopedLogger } from '../logger/logger.js';
import type { RedisKeys } from '../redis/namespace.js';
import { CANCELLED_REASON, isSupersededResult, type AbortMessage } from './abort/abort-reason.js';
import { readEnvelope } from './envelope.js';
import { UnknownHandlerError } from './errors.js';
import { mirrorToJobLog } from './job-log-mirror.js';
import type { JobMetrics, JobOutcome } from './job-metrics.js';
import { DEFAULT_ATTEMPTS } from './job-options.js';
import { parsePayload } from './payload.js';
import { runJob } from './run-job.js';
import type { HandlerMap, JobContext, JobServices } from './types.js';

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
}

/** The BullMQ processor `(job, token, signal)`; the third parameter must stay declared (STACK.md). */
export type Processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

/** A completed run this slow (or a retry) is logged at info; quicker ones at debug. */
const NOTABLE_MS = 1_000;

const fail = (log: Logger, message: string): never => {
  log.error(message);
  throw new UnrecoverableError(message);
};

/**
 * Turns a BullMQ job into a handler call with the seed's error boundaries:
 * - unknown handler name → logged, the job fails without retries;
 * - envelope or payload that fails its schema → logged, fails without retries;
 * - handler throws → logged, re-thrown so BullMQ retries per `attempts`/backoff.
 */
export function createProcessor(deps: ProcessorDeps): Processor {
  const { handlers, log: baseLog, redis, keys, services, aborts, metrics } = deps;
  const runDeps = { redis, keys, abortOf: (id: string) => aborts.received(id) };

  return async function processJob(job, token, signal) {
    const handlerName = job.name;
    const jobId = job.id ?? '';
    // Built on first use: most runs log nothing at the configured level, and a pino child per
    // job is a measurable share of a no-op job's cost (bench/worker-overhead).
    let scoped: Logger | undefined;
    const logger = () => (scoped ??= mirrorToJobLog(scopedLogger(baseLog, 'worker', `${handlerName}:${jobId}`), job));

    const def = Object.hasOwn(handlers, handlerName) ? handlers[handlerName] : undefined;
    if (!def) return fail(logger(), new UnknownHandlerError(handlerName, Object.keys(handlers)).message);
    const read = readEnvelope(job.data);
    if (!read.ok) return fail(logger(), read.error);
    const { envelope } = read;
    let payload: unknown;
    try {
      payload = parsePayload(handlerName, def.schema, envelope.payload);
    } catch (err) {
      return fail(logger(), err instanceof Error ? err.message : String(err));
    }

    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? DEFAULT_ATTEMPTS;
    const ctx: JobContext = {
      jobId,
      handlerName,
      type: envelope.type,
      attempt,
      maxAttempts,
      enqueuedAt: new Date(job.timestamp),
      cronJobId: envelope.cronJobId,
      get log() {
        return logger();
      },
      signal: signal ?? new AbortController().signal,
      updateProgress: (progress) => job.updateProgress(progress),
      redis,
      services,
    };

    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const count = (outcome: JobOutcome) => metrics.record(handlerName, outcome, (performance.now() - started) / 1000);
    aborts.jobStarted(jobId);
    if (baseLog.isLevelEnabled('debug')) logger().debug({ type: envelope.type, attempt }, 'job started');
    try {
      const result = await runJob(runDeps, def, job, token, ctx, payload);
      if (isSupersededResult(result)) {
        count('superseded');
      } else {
        count('completed');
        // Every completion is counted in metrics; the log keeps the ones worth reading (slow or
        // retried) at info, so a busy worker does not spend a tenth of its time logging no-ops.
        const durationMs = ms();
        const notable = durationMs >= NOTABLE_MS || attempt > 1;
        if (notable || baseLog.isLevelEnabled('debug')) logger()[notable ? 'info' : 'debug']({ type: envelope.type, attempt, durationMs }, 'job completed');
      }
      return result;
    } catch (err) {
      if (err instanceof DelayedError) {
        count('requeued');
      } else if (err instanceof UnrecoverableError && err.message === CANCELLED_REASON) {
        count('cancelled');
      } else {
        const willRetry = !(err instanceof UnrecoverableError) && attempt < maxAttempts;
        count(willRetry ? 'retrying' : 'failed');
        logger().error({ err, type: envelope.type, attempt, maxAttempts, willRetry, durationMs: ms() }, 'job failed');
      }
      throw err;
    } finally {
      aborts.jobEnded(jobId);
    }
  };
}
