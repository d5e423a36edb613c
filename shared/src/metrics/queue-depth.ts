import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;

/**
 * `queue_jobs{queue,state}`: read from Redis when Prometheus scrapes (one call), not polled.
 * An unreachable Redis leaves the last values and the scrape still answers.
 */
export function registerQueueDepth(registry: Registry, queue: Queue): void {
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await queue.getJobCounts(...STATES);
        for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      } catch {
        // Redis is down: /readyz says so; the scrape keeps working.
      }
    },
  });
}
