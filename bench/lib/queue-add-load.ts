/**
 * Closed-loop `queue.add`: `inFlight` loops each await one add after another until the time is
 * up. Measures what BullMQ alone can enqueue from one process, the ceiling for the HTTP route.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { closedLoop } from './closed-loop.js';

export interface AddLoadResult {
  adds: number;
  seconds: number;
  jobsPerSec: number;
  /** Per-add latency, ms (sub-ms resolution). */
  latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  /** CPU (user + system) of this process per add, µs. */
  cpuUsPerAdd: number;
}

export interface AddSpec {
  name: string;
  data: unknown;
  opts: JobsOptions;
}

export async function closedLoopAdds(queue: Queue, job: AddSpec, inFlight: number, seconds: number): Promise<AddLoadResult> {
  const run = await closedLoop(() => queue.add(job.name, job.data, job.opts), inFlight, seconds);
  return { adds: run.calls, seconds: run.seconds, jobsPerSec: run.calls / run.seconds, latenciesMs: run.latenciesMs, errors: run.errors, firstError: run.firstError, cpuUsPerAdd: run.cpuUs / Math.max(1, run.calls) };
}
