import { JobsApiError, JobsWaitTimeoutError } from './errors.js';
import { sleep } from './retry.js';
import { FINAL_STATES, type Job } from './types.js';

export interface WaitForJobOptions {
  /** Give up after this long with a {@link JobsWaitTimeoutError} (default 60 000). */
  timeoutMs?: number;
  /** Stops waiting; the wait rejects with the signal's reason. */
  signal?: AbortSignal;
  /** First poll interval; it doubles up to `maxIntervalMs` (defaults 100 and 2 000). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

const isFinal = (state: string): boolean => (FINAL_STATES as readonly string[]).includes(state);

/**
 * Polls `getJob` until the job reaches a final state (completed, failed, cancelled, superseded)
 * and returns it as it was then; a failed job is returned, not thrown (look at `state` and
 * `failedReason`). Polling backs off so a long job costs few requests.
 *
 * @example
 * const job = await waitForJob((signal) => client.getJob(id, { signal }), id, { timeoutMs: 30_000 });
 */
export async function waitForJob(getJob: (signal: AbortSignal) => Promise<Job>, id: string, options: WaitForJobOptions = {}): Promise<Job> {
  const { timeoutMs = 60_000, intervalMs = 100, maxIntervalMs = 2_000 } = options;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let lastState: string | undefined;
  let interval = intervalMs;
  try {
    for (;;) {
      const job = await getJob(signal);
      lastState = job.state;
      if (isFinal(job.state)) return job;
      await sleep(interval, signal);
      interval = Math.min(maxIntervalMs, interval * 2);
    }
  } catch (err) {
    // The deadline, not the caller, ended it: a timeout error rather than an abort.
    if (deadline.aborted && !options.signal?.aborted && !(err instanceof JobsApiError && err.status !== 0)) throw new JobsWaitTimeoutError(id, timeoutMs, lastState);
    throw err;
  }
}
