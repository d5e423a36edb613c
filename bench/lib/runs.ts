/** One throughput run and one latency run of a side, each on a fresh queue prefix. */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteKeysUnder } from './redis-cleanup.js';
import { QUEUE_NAME, checkNotStopped, fillQueue, jobFor, startWorker, type Side } from './sides.js';
import { untilCompleted } from './until-completed.js';


export interface RunContext {
  redisUrl: string;
  /** Fills queues; shared by throughput runs. */
  producer: Redis;
  /** Deletes keys after each run. */
  admin: Redis;
  /** A fresh unique key prefix, remembered for the final sweep. */
  newPrefix(): string;
}


export interface ThroughputResult {
  jobsPerSec: number;
  /** CPU time (user + system) of this Node process per job while the worker ran: less noisy than wall time. */
  cpuUsPerJob: number;
}

/**
 * Pre-fills `jobs` jobs (not timed), then starts the side's worker and measures jobs/s, timed
 * from worker construction to the last 'completed' event.
 */
export async function throughputRun(rc: RunContext, side: Side, concurrency: number, jobs: number): Promise<ThroughputResult> {
  const prefix = rc.newPrefix();
  const queue = new Queue(QUEUE_NAME, { connection: rc.producer, prefix });
  try {
    await fillQueue(queue, jobs);
    const cpu = process.cpuUsage();
    const start = performance.now();
    const w = startWorker(side, { redisUrl: rc.redisUrl, prefix, concurrency });
    try {
      const end = await untilCompleted(w.worker, jobs);
      const { user, system } = process.cpuUsage(cpu);
      return { jobsPerSec: jobs / ((end - start) / 1_000), cpuUsPerJob: (user + system) / jobs };
    } finally {
      await w.close();
    }
  } finally {
    await queue.close();
    await deleteKeysUnder(rc.admin, prefix);
  }
}

/**
 * Adds `jobs` jobs one at a time at `rate` per second from a producer on its own connection and
 * returns each job's latency in ms: from just before `queue.add` to the worker's 'completed' event.
 */
export async function latencyRun(rc: RunContext, side: Side, concurrency: number, jobs: number, rate: number): Promise<number[]> {
  const prefix = rc.newPrefix();
  const connection = new Redis(rc.redisUrl);
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  const w = startWorker(side, { redisUrl: rc.redisUrl, prefix, concurrency });
  try {
    await Promise.all([queue.waitUntilReady(), w.worker.waitUntilReady()]);
    await sleep(250); // let the worker reach its blocking wait for jobs
    const addedAt = new Map<string, number>();
    const completedAt = new Map<string, number>();
    const all = untilCompleted(w.worker, jobs, (id, at) => completedAt.set(id, at));
    all.catch(() => {}); // awaited below; keeps a failure during the add loop from going unhandled
    const intervalMs = 1_000 / rate;
    const t0 = performance.now();
    for (let n = 0; n < jobs; n++) {
      const wait = t0 + n * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      checkNotStopped();
      const { name, data, opts } = jobFor(n);
      const before = performance.now();
      const job = await queue.add(name, data, opts);
      addedAt.set(job.id!, before);
    }
    await all;
    return [...addedAt].map(([id, before]) => completedAt.get(id)! - before);
  } finally {
    await w.close();
    await queue.close();
    await connection.quit();
    await deleteKeysUnder(rc.admin, prefix);
  }
}
