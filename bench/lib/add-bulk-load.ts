/**
 * Closed-loop `queue.addBulk`: `inFlight` loops each await one addBulk of `batch` jobs after
 * another until the time is up. What BullMQ alone enqueues in batches from one process: the
 * ceiling for `POST /api/admin/job/batch`.
 */
import type { Queue } from 'bullmq';
import { closedLoop } from './closed-loop.js';
import type { AddSpec } from './queue-add-load.js';

export interface BulkLoadResult {
  calls: number;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  /** Per-call latency, ms (sub-ms resolution). */
  latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  /** CPU (user + system) of this process per job, µs. */
  cpuUsPerJob: number;
}

export async function closedLoopAddBulks(queue: Queue, job: AddSpec, batch: number, inFlight: number, seconds: number): Promise<BulkLoadResult> {
  const jobs = Array.from({ length: batch }, () => job);
  const run = await closedLoop(() => queue.addBulk(jobs), inFlight, seconds);
  const added = run.calls * batch;
  return { calls: run.calls, jobs: added, seconds: run.seconds, jobsPerSec: added / run.seconds, latenciesMs: run.latenciesMs, errors: run.errors, firstError: run.firstError, cpuUsPerJob: run.cpuUs / Math.max(1, added) };
}
