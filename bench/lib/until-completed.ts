import { performance } from 'node:perf_hooks';
import type { Job, Worker } from 'bullmq';

/** A run fails if no job completes for this long (instead of hanging). */
const STALL_MS = 60_000;

/**
 * Resolves with `performance.now()` of the `count`-th 'completed' event; rejects on a failed job
 * or when nothing completes for STALL_MS.
 */
export function untilCompleted(worker: Worker, count: number, onCompleted?: (id: string, at: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    let lastProgress = Date.now();
    const onDone = (job: Job) => {
      const at = performance.now();
      lastProgress = Date.now();
      onCompleted?.(job.id!, at);
      if (++done === count) {
        stop();
        resolve(at);
      }
    };
    const onFailed = (job: Job | undefined, err: Error) => {
      stop();
      reject(new Error(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress < STALL_MS) return;
      stop();
      reject(new Error(`no job completed for ${STALL_MS / 1000} s (${done}/${count} done)`));
    }, 1_000);
    function stop() {
      clearInterval(watchdog);
      worker.off('completed', onDone);
      worker.off('failed', onFailed);
    }
    worker.on('completed', onDone);
    worker.on('failed', onFailed);
  });
}
