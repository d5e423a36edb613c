import { Counter, Gauge, Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, mergedMetricsText } from '../../src/metrics/index.js';

describe('mergedMetricsText', () => {
  it('serves registries of one process as one exposition: same-named metrics of different services as series of one family, process metrics kept', async () => {
    const api = createMetricsRegistry('api');
    const worker = createMetricsRegistry('worker', { defaultMetrics: false });
    const scheduler = createMetricsRegistry('scheduler', { defaultMetrics: false });
    for (const [registry, n] of [[api, 3], [worker, 5]] as const) {
      new Gauge({ name: 'queue_jobs', help: 'Jobs in the queue by state', labelNames: ['queue', 'state'], registers: [registry] }).set({ queue: 'jobs', state: 'waiting' }, n);
    }
    new Counter({ name: 'jobs_processed_total', help: 'Job runs', labelNames: ['outcome'], registers: [worker] }).inc({ outcome: 'completed' }, 2);
    new Histogram({ name: 'scheduler_pass_duration_seconds', help: 'Pass duration', buckets: [1], registers: [scheduler] }).observe(0.5);

    const text = await mergedMetricsText([api, worker, scheduler]);

    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
    expect(families.length).toBe(new Set(families).size);
    expect(text).toMatch(/^# TYPE queue_jobs gauge$/m);
    expect(text).toContain('queue_jobs{queue="jobs",state="waiting",service="api"} 3');
    expect(text).toContain('queue_jobs{queue="jobs",state="waiting",service="worker"} 5');
    expect(text).toContain('jobs_processed_total{outcome="completed",service="worker"} 2');
    expect(text).toMatch(/^scheduler_pass_duration_seconds_bucket\{le="1",service="scheduler"\} 1$/m);
    expect(text).toMatch(/^scheduler_pass_duration_seconds_count\{service="scheduler"\} 1$/m);
    // Node's process metrics, which the cluster aggregation would omit or average, come through as they are.
    expect(text).toMatch(/^process_start_time_seconds\{service="api"\} \d+$/m);
    expect(text).toMatch(/^nodejs_version_info\{(?=[^}]*service="api")[^}]*\} 1$/m);
  });
});
