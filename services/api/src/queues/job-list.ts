import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ListableState } from '../schemas/queue-schemas.js';

/**
 * A job's place in the list: newest first by creation time, then queue name, then id (a total
 * order, so a page boundary never hands a job out twice or skips one).
 */
export interface JobPosition {
  createdAt: number;
  queue: string;
  id: string;
}

export interface ListedJob extends JobPosition {
  state: ListableState;
}

/** Producers and workers stamp times with their own clocks; the finish-time cut-off allows this much skew. */
const CLOCK_SKEW_MS = 60_000;

/** Ids read per Redis round trip while scanning a state. */
const SCAN_PAGE = 1_000;

/** Negative when `a` comes before `b` (is newer). */
export function comparePositions(a: JobPosition, b: JobPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  if (a.queue !== b.queue) return a.queue < b.queue ? -1 : 1;
  return a.id === b.id ? 0 : a.id > b.id ? -1 : 1;
}

/**
 * The first `limit + 1` jobs after `after` (newest first) in `states` of `queues`, optionally
 * only `handler`'s. BullMQ keeps no index by creation time, so this scans the ids of the chosen
 * states on `redis` (the queues' Redis; a page of ids and one pipelined `HMGET timestamp name` per round trip) and keeps only
 * the best `limit + 1` in memory. Completed and failed sets (the big ones) are read newest
 * finish first and the scan stops as soon as finish times fall below the page's oldest
 * creation time (less a clock-skew margin): a job finishes after it is created, so nothing
 * further down can still qualify.
 */
export async function findJobs(
  redis: Redis,
  queues: Queue[],
  options: { states: readonly ListableState[]; handler?: string | undefined; limit: number; after?: JobPosition | undefined },
  tuning: { scanPage?: number; clockSkewMs?: number } = {},
): Promise<ListedJob[]> {
  const { scanPage = SCAN_PAGE, clockSkewMs = CLOCK_SKEW_MS } = tuning;
  const keep = options.limit + 1;
  const best: ListedJob[] = [];
  const isFull = () => best.length >= keep;
  const offer = (job: ListedJob) => {
    if (options.after && comparePositions(job, options.after) <= 0) return;
    if (best.some((b) => b.queue === job.queue && b.id === job.id)) return; // met while it moved between states
    if (isFull() && comparePositions(job, best[best.length - 1]!) >= 0) return;
    best.splice(sortedIndex(best, job), 0, job);
    if (best.length > keep) best.pop();
  };

  for (const queue of queues) {
    for (const state of options.states) {
      const key = queue.toKey(state === 'waiting' ? 'wait' : state);
      const sorted = state !== 'waiting' && state !== 'active';
      const byFinish = state === 'completed' || state === 'failed';
      for (let start = 0; ; start += scanPage) {
        const end = start + scanPage - 1;
        const raw = sorted ? await redis.zrevrange(key, start, end, 'WITHSCORES') : await redis.lrange(key, start, end);
        const ids = sorted ? raw.filter((_: string, i: number) => i % 2 === 0) : raw;
        if (ids.length === 0) break;
        const pipeline = redis.pipeline();
        for (const id of ids) pipeline.hmget(queue.toKey(id), 'timestamp', 'name');
        const fields = (await pipeline.exec()) ?? [];
        for (const [i, id] of ids.entries()) {
          const [timestamp, name] = (fields[i]?.[1] as (string | null)[] | undefined) ?? [];
          if (timestamp == null || name == null) continue; // removed meanwhile
          if (options.handler !== undefined && name !== options.handler) continue;
          offer({ createdAt: Number(timestamp), queue: queue.name, id, state });
        }
        const lastFinish = byFinish ? Number(raw[raw.length - 1]) : Number.POSITIVE_INFINITY;
        if (ids.length < scanPage) break;
        if (isFull() && lastFinish + clockSkewMs < best[best.length - 1]!.createdAt) break;
      }
    }
  }
  return best;
}

function sortedIndex(list: JobPosition[], job: JobPosition): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (comparePositions(list[mid]!, job) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An opaque cursor (base64url JSON) for the position after which the next page starts. */
export function encodeJobCursor(position: JobPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.queue, position.id])).toString('base64url');
}

/** The position inside a cursor, or undefined when it is not one of ours. */
export function decodeJobCursor(cursor: string): JobPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [createdAt, queue, id] = value as unknown[];
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) return undefined;
  // Any name a queue can have, the default one included (QUEUE_NAME predates the queue-name rule).
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > 100) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
  return { createdAt, queue, id };
}
