/**
 * Closed-loop `queue.addBulk`: `inFlight` loops each await one addBulk of `batch` jobs after
 * another until the time is up. What BullMQ alone enqueues in batches from one process: the
 * ceiling for `POST /api/admin/job/batch`.
 */
import { performance } from 'node:perf_hooks';
import type { Queue } from 'bullmq';
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
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const jobs = Array.from({ length: batch }, () => job);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1_000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const before = performance.now();
      try {
        await queue.addBulk(jobs);
        latenciesMs.push(performance.now() - before);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsed = (performance.now() - start) / 1_000;
  const { user, system } = process.cpuUsage(cpu);
  const calls = latenciesMs.length;
  return { calls, jobs: calls * batch, seconds: elapsed, jobsPerSec: (calls * batch) / elapsed, latenciesMs, errors, firstError, cpuUsPerJob: (user + system) / Math.max(1, calls * batch) };
}
