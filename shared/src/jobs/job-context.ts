import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scopedLogger } from '../logger/logger.js';
import { mirrorToJobLog } from './job-log-mirror.js';
import type { JobContext, JobServices, JobType } from './types.js';

/**
 * The `ctx` of one run. A class rather than an object literal with closures: a no-op job's
 * cost is mostly per-job allocations (bench/worker-overhead), and this is one object whose
 * logger is only built when the handler, or the processor, first logs.
 */
export class RunContext implements JobContext {
  readonly jobId: string;
  readonly handlerName: string;
  readonly type: JobType;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly cronJobId: string | undefined;
  readonly signal: AbortSignal;
  readonly redis: Redis;
  readonly services: JobServices;
  /** An own function, not a method, so `const { updateProgress } = ctx` keeps working. */
  readonly updateProgress: (progress: number | object) => Promise<void>;
  readonly #job: Job;
  readonly #baseLog: Logger;
  #log: Logger | undefined;
  #enqueuedAt: Date | undefined;

  constructor(init: {
    job: Job;
    /** The id callers know the job by (`<queue>~<id>` off the default queue); default: BullMQ's id. */
    ref?: string;
    baseLog: Logger;
    type: JobType;
    cronJobId: string | undefined;
    maxAttempts: number;
    signal: AbortSignal | undefined;
    redis: Redis;
    services: JobServices;
  }) {
    const { job } = init;
    this.#job = job;
    this.#baseLog = init.baseLog;
    this.jobId = init.ref ?? job.id ?? '';
    this.handlerName = job.name;
    this.type = init.type;
    this.attempt = job.attemptsMade + 1;
    this.maxAttempts = init.maxAttempts;
    this.cronJobId = init.cronJobId;
    // BullMQ always passes one (the processor declares it); a processor called directly gets its own.
    this.signal = init.signal ?? new AbortController().signal;
    this.redis = init.redis;
    this.services = init.services;
    this.updateProgress = (progress) => job.updateProgress(progress);
  }

  get enqueuedAt(): Date {
    return (this.#enqueuedAt ??= new Date(this.#job.timestamp));
  }

  /** Pino child scoped `[worker][{handlerName}:{jobId}]`, mirrored into the job's own log. */
  get log(): Logger {
    return (this.#log ??= mirrorToJobLog(scopedLogger(this.#baseLog, 'worker', `${this.handlerName}:${this.jobId}`), this.#job));
  }
}
