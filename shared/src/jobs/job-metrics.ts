import { Counter, Histogram, type Registry } from 'prom-client';

/** How a run ended, as counted in `jobs_processed_total`. */
export type JobOutcome = 'completed' | 'failed' | 'retrying' | 'superseded' | 'cancelled' | 'requeued';

export interface JobMetrics {
  record(handler: string, outcome: JobOutcome, seconds: number): void;
}

/** A no-op for workers built without a registry (library use, tests). */
export const noJobMetrics: JobMetrics = { record: () => undefined };

/**
 * `jobs_processed_total{handler,outcome}` and `job_duration_seconds{handler,outcome}` on `registry`.
 * `requeued` counts runs put back without an attempt (singleton lock taken, shutdown).
 */
export function createJobMetrics(registry: Registry): JobMetrics {
  const processed = new Counter({
    name: 'jobs_processed_total',
    help: 'Job runs by handler and outcome',
    labelNames: ['handler', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Run time of jobs by handler and outcome',
    labelNames: ['handler', 'outcome'],
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  // One labelled child pair per (handler, outcome), made on first use: a run then skips
  // building, validating and hashing a labels object twice (bench/profile.ts, job processing).
  type Child = { processed: Counter.Internal; duration: Histogram.Internal<'handler' | 'outcome'> };
  const children = new Map<string, Partial<Record<JobOutcome, Child>>>();
  return {
    record(handler, outcome, seconds) {
      let byOutcome = children.get(handler);
      if (!byOutcome) children.set(handler, (byOutcome = {}));
      const child = (byOutcome[outcome] ??= { processed: processed.labels(handler, outcome), duration: duration.labels(handler, outcome) });
      child.processed.inc();
      child.duration.observe(seconds);
    },
  };
}
