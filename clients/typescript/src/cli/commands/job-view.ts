import type { Job } from '../../index.js';
import { fields } from '../output.js';

/** A job as `key: value` lines. */
export function renderJob(job: Job): string {
  return fields({
    id: job.id,
    handler: job.handler,
    queue: job.queue,
    type: job.type,
    state: job.state,
    attempts: `${job.attemptsMade}/${job.maxAttempts}`,
    progress: job.progress,
    result: job.result,
    failedReason: job.failedReason,
    createdAt: job.createdAt,
    processedAt: job.processedAt,
    finishedAt: job.finishedAt,
    delayUntil: job.delayUntil,
  });
}

/** Exit code of a finished job: 1 unless it completed (`--wait`). */
export function finishedExitCode(job: Job): number {
  return job.state === 'completed' ? 0 : 1;
}
