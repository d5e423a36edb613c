import { CronExpressionParser } from 'cron-parser';
import type { Queue } from 'bullmq';
import type { CronJob } from '@jobs/shared/db';
import type { ConsoleDeps } from '../console-env.js';

/** The latest scheduled run of a cron row that BullMQ still holds. */
export interface LastRun {
  outcome: 'completed' | 'failed' | 'running' | 'waiting';
  /** When it finished (or started, or was due, for a run still going or waiting). */
  at: Date;
  queue: string;
  /** BullMQ's job id: `repeat:<scheduler id>:<tick ms>`. */
  jobId: string;
  failedReason: string | undefined;
}

/** How many past ticks are looked up per row: a run that is late or slow is still found. */
const TICKS = 4;

/**
 * The last run of each row's job scheduler, from BullMQ, in one pipeline per queue.
 *
 * How, cheaply: BullMQ names a scheduler's runs `repeat:<scheduler id>:<tick in ms>` (the
 * scheduler id is the row's `job_id`), so the row's last few ticks, computed from its pattern,
 * give the ids of its last few runs: a handful of `HMGET`s per row, whatever the size of the
 * completed and failed sets. The newest that exists wins. Runs removed by retention (completed
 * after 24 h, failed after 7 days), runs of an earlier pattern and manual triggers (`cronTrigger`
 * jobs, with ids of their own) are not found: the page then says there is no run on record.
 *
 * @example
 * const runs = await lastScheduledRuns(deps, rows); // Map<row id, LastRun>
 */
export async function lastScheduledRuns(deps: ConsoleDeps, rows: CronJob[], now: Date = new Date()): Promise<Map<string, LastRun>> {
  const byQueue = new Map<Queue, { row: CronJob; jobIds: string[] }[]>();
  for (const row of rows) {
    const queue = deps.jobs.queues.get(deps.jobs.queueOf(row.handler)) ?? deps.jobs.queue;
    const jobIds = pastTicks(row.pattern, now).map((tick) => `repeat:${row.job_id}:${tick}`);
    if (jobIds.length === 0) continue;
    const list = byQueue.get(queue) ?? [];
    list.push({ row, jobIds });
    byQueue.set(queue, list);
  }
  const found = new Map<string, LastRun>();
  for (const [queue, entries] of byQueue) {
    const pipeline = deps.redis.pipeline(); // the connection the API's queues use

    for (const { jobIds } of entries) for (const id of jobIds) pipeline.hmget(queue.toKey(id), 'finishedOn', 'failedReason', 'processedOn', 'timestamp', 'delay');
    const replies = (await pipeline.exec()) ?? [];
    let at = 0;
    for (const { row, jobIds } of entries) {
      for (const jobId of jobIds) {
        const reply = replies[at++];
        const run = reply && !reply[0] ? toLastRun(queue.name, jobId, reply[1] as (string | null)[]) : undefined;
        if (run && !found.has(row.id)) found.set(row.id, run);
      }
    }
  }
  return found;
}

/** The row's last ticks before `now`, newest first, in ms; none for a pattern that does not parse. */
function pastTicks(pattern: string, now: Date): number[] {
  try {
    const expression = CronExpressionParser.parse(pattern, { tz: 'UTC', currentDate: now });
    const ticks: number[] = [];
    for (let i = 0; i < TICKS && expression.hasPrev(); i++) ticks.push(expression.prev().getTime());
    return ticks;
  } catch {
    return [];
  }
}

function toLastRun(queue: string, jobId: string, fields: (string | null)[]): LastRun | undefined {
  const [finishedOn, failedReason, processedOn, timestamp, delay] = fields;
  if (finishedOn === null && processedOn === null && timestamp === null) return undefined; // no such job
  const base = { queue, jobId, failedReason: failedReason ?? undefined };
  if (finishedOn) return { ...base, outcome: failedReason ? 'failed' : 'completed', at: new Date(Number(finishedOn)) };
  if (processedOn) return { ...base, outcome: 'running', at: new Date(Number(processedOn)) };
  return { ...base, outcome: 'waiting', at: new Date(Number(timestamp ?? 0) + Number(delay ?? 0)) };
}
