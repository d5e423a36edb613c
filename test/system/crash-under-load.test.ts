import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepUntil } from '../helpers/index.js';
import { JobEventTracker, percentile, pool } from './lib/load.js';
import { startSystem, type System } from './lib/system.js';

// Scenario: 20 000 jobs enqueued over HTTP by 50 concurrent clients while one of two workers is
// SIGKILLed and restarted twice. Nothing may be lost; re-runs are bounded by what was active.

const JOBS = Number(process.env.SYSTEM_JOBS ?? 20_000);
const CLIENTS = 50;
const CONCURRENCY = 10;
const LOCK_MS = 3_000;
// Each echo job sleeps this long, so 2 workers × 10 run at most 800 jobs/s: less than the API
// takes in (~1 000/s here), so both workers are always full and a kill always hits 10 active jobs.
const JOB_MS = 25;

describe('system: enqueue under load while a worker crashes', () => {
  let system: System;
  let tracker: JobEventTracker;
  const t0 = Date.now();

  beforeAll(async () => {
    system = await startSystem({
      workers: 2,
      schedulers: 2,
      workerEnv: { WORKER_CONCURRENCY: String(CONCURRENCY), WORKER_LOCK_DURATION_MS: String(LOCK_MS) },
      // No built-in retention: its next run would be one more delayed job in the counts below.
      schedulerEnv: { WEBHOOK_EVENT_RETENTION_SCHEDULE: 'off' },
    });
    tracker = await JobEventTracker.start(system.queueName, system.prefix, system.redisUrl);
    console.log(`[crash-under-load] system up in ${Date.now() - t0} ms`);
  }, 120_000);

  afterAll(async () => {
    await tracker?.close();
    await system?.stop();
    console.log(`[crash-under-load] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  it(`${JOBS} jobs over HTTP, one worker killed -9 and restarted twice: every job completes, re-runs ≤ 2 × concurrency`, { timeout: 240_000 }, async () => {
    const ids: string[] = new Array(JOBS);
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    const victim = system.workers[0]!;
    const kills: Array<{ at: number; completedBefore: number; activeBefore: number; waitingBefore: number; stalledAfter: number; downMs: number }> = [];

    const started = Date.now();
    let enqueueDone = 0;
    const load = pool(JOBS, CLIENTS, async (i) => {
      const t = performance.now();
      const res = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: `job ${i}`, delayMs: JOB_MS } });
      latencies.push(performance.now() - t);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = (await res.json()) as { id?: string };
      if (res.status === 201 && body.id) ids[i] = body.id;
    }).then(() => (enqueueDone = Date.now()));

    // Chaos: kill the victim once a tenth has completed, restart it, wait until the jobs it held
    // were found stalled and run again, then do it once more.
    const chaos = (async () => {
      for (const threshold of [Math.floor(JOBS * 0.1), Math.floor(JOBS * 0.4)]) {
        await sleepUntil(() => tracker.completed.size >= threshold, { timeoutMs: 120_000, intervalMs: 20, message: `${threshold} completions` });
        // Both workers busy (the victim included), so the kill leaves jobs behind.
        await sleepUntil(async () => (await system.queue.getActiveCount()) >= 2 * CONCURRENCY - 2, { timeoutMs: 30_000, intervalMs: 10, message: 'both workers busy' });
        const counts = await system.queue.getJobCounts('active', 'waiting');
        const stalledBefore = tracker.stalled.size;
        const killedAt = Date.now();
        await victim.kill9();
        const completedBefore = tracker.completed.size;
        await victim.start();
        const downMs = Date.now() - killedAt;
        // The survivor's stalled check (every LOCK_MS) finds the jobs whose lock lapsed: 1–3 intervals.
        await sleepUntil(() => tracker.stalled.size > stalledBefore, { timeoutMs: 6 * LOCK_MS, intervalMs: 50, message: 'stalled jobs recovered' }).catch(() => undefined);
        await sleep(LOCK_MS); // a later check may find more of them
        kills.push({ at: killedAt - started, completedBefore, activeBefore: counts.active ?? 0, waitingBefore: counts.waiting ?? 0, stalledAfter: tracker.stalled.size - stalledBefore, downMs });
      }
    })();

    await Promise.all([load, chaos]);
    const enqueueMs = enqueueDone - started;
    expect(Object.fromEntries(statuses), 'every enqueue answered 201').toEqual({ 201: JOBS });
    expect(ids.filter(Boolean)).toHaveLength(JOBS);
    expect(new Set(ids).size, 'distinct ids').toBe(JOBS);

    // Every acknowledged id completes.
    const missing = () => ids.filter((id) => !tracker.completed.has(id));
    await sleepUntil(() => missing().length === 0 || tracker.failed.size > 0, { timeoutMs: 120_000, intervalMs: 100, message: 'all jobs completed' }).catch(() => undefined);
    const doneMs = Date.now() - started;
    const notCompleted = missing();
    const states = await Promise.all(notCompleted.slice(0, 20).map(async (id) => `${id}:${await system.queue.getJobState(id)}`));
    expect(notCompleted, `not completed (first states: ${states.join(', ')})\n${system.dump()}`).toEqual([]);
    expect(Object.fromEntries(tracker.failed), 'failed jobs').toEqual({});
    const counts = await system.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'failed', 'completed', 'waiting-children');
    expect({ ...counts, completed: 0 }).toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0, failed: 0, completed: 0, 'waiting-children': 0 });

    // Executed more than once: jobs started more than once (BullMQ's `ats`, for those whose hash
    // retention kept) and jobs found stalled (every one was moved back to run again).
    const pipeline = system.redis.pipeline();
    for (const id of ids) pipeline.hget(`${system.prefix}:${system.queueName}:${id}`, 'ats');
    const ats = (await pipeline.exec())!.map(([, v]) => (v == null ? undefined : Number(v)));
    const kept = ats.filter((v) => v !== undefined).length;
    const startedTwice = ids.filter((_, i) => (ats[i] ?? 0) > 1);
    const rerun = new Set([...tracker.stalled.keys(), ...startedTwice]);
    // Every job started twice was one the stalled check recovered: nothing else ran twice.
    expect(startedTwice.filter((id) => !tracker.stalled.has(id)), 'started twice without being stalled').toEqual([]);
    expect(kills).toHaveLength(2);
    // Each kill left jobs behind that the survivor recovered (so the scenario happened).
    for (const kill of kills) expect(kill.stalledAfter, JSON.stringify(kills)).toBeGreaterThan(0);
    expect(rerun.size, 're-runs ≤ jobs active on the killed worker (2 kills × concurrency)').toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(victim.previousOutputs.length).toBe(2);

    const report = {
      jobs: JOBS,
      clients: CLIENTS,
      enqueueMs,
      enqueuePerSec: Math.round(JOBS / (enqueueMs / 1000)),
      latencyMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), max: Math.round(Math.max(...latencies)) },
      allCompletedMs: doneMs,
      kills,
      stalledJobs: tracker.stalled.size,
      stalledTwice: [...tracker.stalled.values()].filter((n) => n > 1).length,
      jobHashesKept: kept,
      startedMoreThanOnce: startedTwice.length,
      executedMoreThanOnce: rerun.size,
    };
    console.log(`[crash-under-load] ${JSON.stringify(report)}`);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
