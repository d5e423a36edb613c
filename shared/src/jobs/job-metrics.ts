import { Counter, Histogram, type Registry } from 'prom-client';

/** How a run ended, as counted in `jobs_processed_total`. */
export type JobOutcome = 'completed' | 'failed' | 'retrying' | 'superseded' | 'cancelled' | 'requeued';

export interface JobMetrics {
  /** Counts one run of `handler` on `queue` (the BullMQ queue name) and observes its duration. */
  record(queue: string, handler: string, outcome: JobOutcome, seconds: number): void;
}

/** A no-op for workers built without a registry (library use, tests). */
export const noJobMetrics: JobMetrics = { record: () => undefined };

const LABELS = ['queue', 'handler', 'outcome'] as const;
type Label = (typeof LABELS)[number];

/**
 * `jobs_processed_total{queue,handler,outcome}` and `job_duration_seconds{queue,handler,outcome}`
 * on `registry`. `requeued` counts runs put back without an attempt (singleton lock taken,
 * shutdown). Calling it again on the same registry (one worker per queue) shares the series
 * instead of failing on a duplicate metric name.
 */
export function createJobMetrics(registry: Registry): JobMetrics {
  const processed =
    (registry.getSingleMetric('jobs_processed_total') as Counter<Label> | undefined) ??
    new Counter({ name: 'jobs_processed_total', help: 'Job runs by queue, handler and outcome', labelNames: LABELS, registers: [registry] });
  const duration =
    (registry.getSingleMetric('job_duration_seconds') as Histogram<Label> | undefined) ??
    new Histogram({
      name: 'job_duration_seconds',
      help: 'Run time of jobs by queue, handler and outcome',
      labelNames: LABELS,
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers: [registry],
    });
  // One labelled child pair per (queue, handler, outcome), made on first use: a run then skips
  // building, validating and hashing a labels object twice (bench/profile.ts, job processing).
  type Child = { processed: Counter.Internal; duration: Histogram.Internal<Label> };
  const children = new Map<string, Partial<Record<JobOutcome, Child>>>();
  return {
    record(queue, handler, outcome, seconds) {
      const key = `${queue}\0${handler}`;
      let byOutcome = children.get(key);
      if (!byOutcome) children.set(key, (byOutcome = {}));
      const child = (byOutcome[outcome] ??= { processed: processed.labels(queue, handler, outcome), duration: duration.labels(queue, handler, outcome) });
      child.processed.inc();
      child.duration.observe(seconds);
    },
  };
}
