import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scopedLogger } from '../logger/logger.js';
import { readEnvelope } from './envelope.js';
import { UnknownHandlerError } from './errors.js';
import { DEFAULT_ATTEMPTS } from './job-options.js';
import { parsePayload } from './payload.js';
import type { HandlerMap, JobContext, JobServices } from './types.js';

export interface ProcessorDeps {
  handlers: HandlerMap;
  /** The root logger; each job gets a child scoped `[worker][{handlerName}:{jobId}]`. */
  log: Logger;
  redis: Redis;
  services: JobServices;
}

/** The BullMQ processor `(job, token, signal)`; the third parameter must stay declared (STACK.md). */
export type Processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>;

/**
 * Turns a BullMQ job into a handler call with the seed's error boundaries:
 * - unknown handler name → logged, the job fails without retries;
 * - envelope or payload that fails its schema → logged, fails without retries;
 * - handler throws → logged, re-thrown so BullMQ retries per `attempts`/backoff.
 */
export function createProcessor(deps: ProcessorDeps): Processor {
  const { handlers, log: baseLog, redis, services } = deps;
  return async function processJob(job, _token, signal) {
    const handlerName = job.name;
    const jobId = job.id ?? '';
    const log = scopedLogger(baseLog, 'worker', `${handlerName}:${jobId}`);

    const def = Object.hasOwn(handlers, handlerName) ? handlers[handlerName] : undefined;
    if (!def) {
      const error = new UnknownHandlerError(handlerName, Object.keys(handlers));
      log.error({ handler: handlerName }, error.message);
      throw new UnrecoverableError(error.message);
    }

    const read = readEnvelope(job.data);
    if (!read.ok) {
      log.error(read.error);
      throw new UnrecoverableError(read.error);
    }
    const { envelope } = read;

    let payload: unknown;
    try {
      payload = parsePayload(handlerName, def.schema, envelope.payload);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(message);
      throw new UnrecoverableError(message);
    }

    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? DEFAULT_ATTEMPTS;
    const ctx: JobContext = {
      jobId,
      handlerName,
      type: envelope.type,
      attempt,
      maxAttempts,
      cronJobId: envelope.cronJobId,
      log,
      signal: signal ?? new AbortController().signal,
      updateProgress: (progress) => job.updateProgress(progress),
      redis,
      services,
    };

    const started = performance.now();
    log.debug({ type: envelope.type, attempt }, 'job started');
    try {
      const result = await def.run(ctx, payload);
      log.info({ type: envelope.type, attempt, durationMs: Math.round(performance.now() - started) }, 'job completed');
      return result;
    } catch (err) {
      const willRetry = !(err instanceof UnrecoverableError) && attempt < maxAttempts;
      log.error(
        { err, type: envelope.type, attempt, maxAttempts, willRetry, durationMs: Math.round(performance.now() - started) },
        'job failed',
      );
      throw err;
    }
  };
}
