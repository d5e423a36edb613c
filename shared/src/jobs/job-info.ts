import type { Job, JobState } from 'bullmq';
import { CANCELLED_REASON, isSupersededResult } from './abort/abort-reason.js';
import { readEnvelope } from './envelope.js';
import { jobRef } from './queues.js';
import type { JobType } from './types.js';

/** What `getJob` and `GET /api/admin/job/:id` report about a job. */
export interface JobInfo {
  /** The id callers use: plain on the default queue, `<queue>~<id>` on another (queues.ts). */
  id: string;
  /** The queue it is on. */
  queue: string;
  handler: string;
  type: JobType | 'unknown';
  cronJobId: string | undefined;
  /** BullMQ's state, except that a superseded run reads `superseded` and a cancelled one `cancelled`. */
  state: JobState | 'superseded' | 'cancelled' | 'unknown';
  payload: unknown;
  progress: number | string | boolean | object;
  attemptsMade: number;
  maxAttempts: number;
  result: unknown;
  failedReason: string | undefined;
  createdAt: string;
  processedAt: string | undefined;
  finishedAt: string | undefined;
  delayUntil: string | undefined;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

/**
 * Summarises a BullMQ job for clients. `state` must be read before the job hash was fetched:
 * the job may move on in between, and an older state next to newer data (say `active` with a
 * result) is less misleading than `failed` without its reason. `defaultQueue` makes the id
 * the cross-queue one (`<queue>~<id>` off the default queue); without it the id is BullMQ's.
 */
export function toJobInfo(job: Job, state: JobState | 'unknown', defaultQueue: string = job.queueName): JobInfo {
  const read = readEnvelope(job.data);
  return {
    id: jobRef(job.queueName, job.id ?? '', defaultQueue),
    queue: job.queueName,
    handler: job.name,
    type: read.ok ? read.envelope.type : 'unknown',
    cronJobId: read.ok ? read.envelope.cronJobId : undefined,
    state: state === 'completed' && isSupersededResult(job.returnvalue) ? 'superseded' : state === 'failed' && job.failedReason === CANCELLED_REASON ? 'cancelled' : state,
    payload: read.ok ? read.envelope.payload : job.data,
    progress: job.progress,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    result: job.returnvalue ?? undefined,
    failedReason: job.failedReason || undefined,
    createdAt: iso(job.timestamp) ?? new Date(0).toISOString(),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    delayUntil: job.delay ? iso(job.timestamp + job.delay) : undefined,
  };
}
