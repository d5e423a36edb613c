/**
 * A closed loop: `inFlight` loops each await one `call` after another until `seconds` are up,
 * recording each call's latency and this process's CPU. The driver behind the raw-BullMQ sides of
 * the enqueue benches (queue-add-load.ts, add-bulk-load.ts).
 */
import { performance } from 'node:perf_hooks';

export interface ClosedLoopRun {
  calls: number;
  seconds: number;
  /** Per-call latency, ms (sub-ms resolution). */
  latenciesMs: number[];
  errors: number;
  firstError: string | undefined;
  /** CPU (user + system) of this process over the run, µs. */
  cpuUs: number;
}

export async function closedLoop(call: () => Promise<unknown>, inFlight: number, seconds: number): Promise<ClosedLoopRun> {
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
        await call();
        latenciesMs.push(performance.now() - before);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  const { user, system } = process.cpuUsage(cpu);
  return { calls: latenciesMs.length, seconds: (performance.now() - start) / 1_000, latenciesMs, errors, firstError, cpuUs: user + system };
}
