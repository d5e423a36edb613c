import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

/** Runs `task(i)` for i in 0…n-1 with at most `concurrency` at once. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/**
 * Follows the queue's event stream from the moment it is created and keeps every job id that
 * completed, failed or stalled. BullMQ trims finished jobs (`removeOnComplete.count` 10 000) and
 * its event stream (~10 000 entries), so for a run of more than 10 000 jobs a live reader is the
 * exact record of what completed.
 */
export class JobEventTracker {
  readonly completed = new Set<string>();
  readonly failed = new Map<string, string>();
  /** Job id → how many times it was found stalled (moved back to wait to run again). */
  readonly stalled = new Map<string, number>();
  private constructor(
    private readonly events: QueueEvents,
    private readonly connection: Redis,
  ) {
    events.on('completed', ({ jobId }) => this.completed.add(jobId));
    events.on('failed', ({ jobId, failedReason }) => this.failed.set(jobId, failedReason));
    events.on('stalled', ({ jobId }) => this.stalled.set(jobId, (this.stalled.get(jobId) ?? 0) + 1));
    events.on('error', () => {});
  }

  static async start(queueName: string, prefix: string, redisUrl: string): Promise<JobEventTracker> {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => {});
    // lastEventId '$': only what happens from now on.
    const events = new QueueEvents(queueName, { connection, prefix, lastEventId: '$', autorun: true });
    await events.waitUntilReady();
    return new JobEventTracker(events, connection);
  }

  async close(): Promise<void> {
    await this.events.close().catch(() => undefined);
    this.connection.disconnect();
  }
}

/** p-th percentile (0–100) of `values` (sorted copy). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
