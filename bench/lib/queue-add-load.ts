/**
 * Closed-loop `queue.add`: `inFlight` loops each await one add after another until the time is
 * up. Measures what BullMQ alone can enqueue from one process, the ceiling for the HTTP route.
 */
import { performance } from 'node:perf_hooks';
import type { JobsOptions, Queue } from 'bullmq';

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
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1_000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const before = performance.now();
      try {
        await queue.add(job.name, job.data, job.opts);
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
  const adds = latenciesMs.length;
  return { adds, seconds: elapsed, jobsPerSec: adds / elapsed, latenciesMs, errors, firstError, cpuUsPerAdd: (user + system) / Math.max(1, adds) };
}
