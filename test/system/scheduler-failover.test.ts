import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepUntil } from '../helpers/index.js';
import { isLeader, startSystem, type System } from './lib/system.js';

// Scenario: an every-second cron (created through the API) runs on 2 workers while the leading
// scheduler of 2 is killed -9. Every tick runs exactly once: none lost across the failover,
// none doubled. BullMQ names each tick's job `repeat:<schedulerId>:<tick in ms>` (job-scheduler.js
// getSchedulerNextJobId), as shared/test/scheduler/exactly-once.test.ts reads it.

describe('system: scheduler leader killed during a per-second cron', () => {
  let system: System;
  const t0 = Date.now();

  beforeAll(async () => {
    // Reconcile every second, so the new leader's passes run while ticks fire.
    system = await startSystem({ workers: 2, schedulers: 2, schedulerEnv: { SCHEDULER_RECONCILE_MS: '1000' } });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    console.log(`[scheduler-failover] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  it('*/1 * * * * *: every tick once across a leader crash', { timeout: 120_000 }, async () => {
    await sleepUntil(async () => (await Promise.all(system.schedulers.map(isLeader))).some(Boolean), { timeoutMs: 20_000, message: 'a leader' });
    const created = await system.call('POST', '/api/admin/cronJob', { name: 'every second', pattern: '*/1 * * * * *', handler: 'echo', payload: { message: 'tick' } });
    expect(created.status).toBe(201);
    const row = (await created.json()) as { id: string; jobId: string };

    const prefix = `repeat:${row.jobId}:`;
    const tickJobs = async () => (await system.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'])).filter((j) => j?.id?.startsWith(prefix));
    const completedTicks = async () => (await tickJobs()).filter((j) => j.finishedOn && !j.failedReason).length;
    await sleepUntil(async () => (await completedTicks()) >= 4, { timeoutMs: 20_000, intervalMs: 200, message: '4 ticks' });

    const leaders = await Promise.all(system.schedulers.map(isLeader));
    const leader = system.schedulers[leaders.indexOf(true)]!;
    const standby = system.schedulers.find((s) => s !== leader)!;
    expect(leaders.filter(Boolean)).toHaveLength(1);
    const killAt = Date.now();
    await leader.kill9();
    await sleepUntil(() => isLeader(standby), { timeoutMs: 20_000, intervalMs: 100, message: 'the standby takes over' });
    const takeoverMs = Date.now() - killAt;
    const ticksAtTakeover = await completedTicks();
    // Some ticks under the new leader (and a few of its reconcile passes).
    await sleepUntil(async () => (await completedTicks()) >= ticksAtTakeover + 5, { timeoutMs: 20_000, intervalMs: 200, message: '5 more ticks' });
    // The killed one comes back as a standby; nothing doubles either.
    await leader.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    // Stop the cron and let the tick already due finish.
    const disabled = await system.call('PATCH', `/api/admin/cronJob/${row.id}`, { enabled: false });
    expect(disabled.status).toBe(200);
    await sleepUntil(async () => (await system.queue.getJobScheduler(row.jobId)) === undefined, { timeoutMs: 10_000, message: 'scheduler removed' });
    await sleepUntil(async () => (await tickJobs()).every((j) => j.finishedOn), { timeoutMs: 10_000, message: 'ticks finished' });

    const jobs = await tickJobs();
    const ticks = jobs.map((j) => Number(j.id!.slice(prefix.length)));
    const perTick = new Map<number, number>();
    for (const tick of ticks) perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    const sorted = [...perTick.keys()].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((tick, i) => tick - sorted[i]!).filter((d) => d !== 1_000);
    const runs = jobs.map((j) => j.attemptsStarted ?? 0);
    const report = {
      ticks: sorted.length,
      firstTick: new Date(sorted[0]!).toISOString(),
      lastTick: new Date(sorted.at(-1)!).toISOString(),
      killAt: new Date(killAt).toISOString(),
      takeoverMs,
      ticksDuringFailover: sorted.filter((t) => t >= killAt && t <= killAt + takeoverMs).length,
      gaps,
      runsPerJob: [...new Set(runs)],
    };
    console.log(`[scheduler-failover] ${JSON.stringify(report)}`);

    expect(sorted.every((t) => t % 1_000 === 0), 'ticks on whole seconds').toBe(true);
    expect([...perTick].filter(([, n]) => n > 1), 'ticks enqueued more than once').toEqual([]);
    expect(gaps, 'seconds skipped between the first and the last tick').toEqual([]);
    expect(runs.every((n) => n === 1), `every tick ran once (attemptsStarted ${JSON.stringify(runs)})`).toBe(true);
    expect(jobs.every((j) => !j.failedReason && (j.returnvalue as { message?: string } | null)?.message === 'tick')).toBe(true);
    expect(jobs.every((j) => (j.data as { type: string; cronJobId: string }).type === 'cron' && (j.data as { cronJobId: string }).cronJobId === row.id)).toBe(true);
    // The crash fell inside the run: ticks before it, during the failover window, and after.
    expect(sorted[0]!).toBeLessThan(killAt);
    expect(sorted.at(-1)!).toBeGreaterThan(killAt + takeoverMs);
    expect(report.ticksDuringFailover, 'ticks kept firing while no scheduler led').toBeGreaterThan(0);
  });
});
