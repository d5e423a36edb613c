import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { withTimeout } from '../process/with-timeout.js';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;

/**
 * How long a scrape waits for the counts. A queue whose connection never came up (Redis down at
 * start) does not fail its commands: ioredis queues them, so without a bound the scrape, and
 * with it every other metric of the process, would hang until Prometheus gives up.
 */
export const QUEUE_DEPTH_SCRAPE_TIMEOUT_MS = 1_000;

/**
 * `queue_jobs{queue,state}` for every queue in `queues`: read from Redis when Prometheus scrapes
 * (one `getJobCounts` per queue, all in parallel), not polled. A queue whose Redis does not
 * answer within `timeoutMs` keeps its last values and the scrape still answers. Takes one queue or several.
 *
 * @example
 * registerQueueDepth(registry, jobs.queues.values());
 */
export function registerQueueDepth(registry: Registry, queues: Queue | Iterable<Queue>, timeoutMs = QUEUE_DEPTH_SCRAPE_TIMEOUT_MS): void {
  const list: Queue[] = isQueue(queues) ? [queues] : [...queues];
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      await Promise.all(
        list.map(async (queue) => {
          try {
            const counts = await withTimeout(queue.getJobCounts(...STATES), timeoutMs);
            for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          } catch {
            // Redis is down: /readyz says so; the scrape keeps working.
          }
        }),
      );
    },
  });
}

function isQueue(value: Queue | Iterable<Queue>): value is Queue {
  return typeof (value as Partial<Queue>).getJobCounts === 'function';
}
