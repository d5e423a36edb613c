import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepUntil } from '../helpers/index.js';
import { startSystem, type System } from './lib/system.js';

// Scenario: SIGTERM to a worker running 10 two-second jobs. All 10 complete, the process exits 0,
// and it takes nothing after the signal: 5 jobs enqueued right after it stay waiting until
// another worker takes them.

describe('system: SIGTERM drains a worker', () => {
  let system: System;
  const t0 = Date.now();

  beforeAll(async () => {
    system = await startSystem({ workers: 2, schedulers: 0, startWorkers: false, workerEnv: { WORKER_CONCURRENCY: '10', LOG_LEVEL: 'info' } });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    console.log(`[graceful-shutdown] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  async function enqueue(message: string, delayMs: number): Promise<string> {
    const res = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message, delayMs } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('10 active 2 s jobs finish, exit code 0, the 5 enqueued after SIGTERM stay waiting for another worker', { timeout: 90_000 }, async () => {
    const [first, second] = system.workers as [typeof system.workers[0], typeof system.workers[0]];
    await first.start();
    const active = await Promise.all(Array.from({ length: 10 }, (_, i) => enqueue(`active ${i}`, 2_000)));
    await sleepUntil(async () => (await system.queue.getActiveCount()) === 10, { timeoutMs: 10_000, message: '10 active' });
    const termAt = Date.now();
    const exited = first.terminate();
    const late = await Promise.all(Array.from({ length: 5 }, (_, i) => enqueue(`late ${i}`, 0)));

    // While the first worker drains, the late jobs are never taken.
    let samples = 0;
    let exitCode: number | string | undefined;
    void exited.then((code) => (exitCode = code));
    while (exitCode === undefined) {
      const states = await Promise.all(late.map((id) => system.queue.getJobState(id)));
      expect(states, `late jobs ${(Date.now() - termAt)} ms after SIGTERM`).toEqual(late.map(() => 'waiting'));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (Date.now() - termAt > 30_000) throw new Error(`worker did not exit within 30 s:\n${first.output()}`);
    }
    const drainMs = Date.now() - termAt;
    expect(exitCode, first.output()).toBe(0);
    for (const id of active) {
      const job = (await system.queue.getJob(id))!;
      expect(await job.getState(), `job ${id}`).toBe('completed');
      expect(job.attemptsStarted).toBe(1);
      expect(job.returnvalue).toEqual({ message: job.data.payload.message });
    }
    // Nothing of the late ones was started, and no lock or stalled leftovers.
    for (const id of late) expect((await system.queue.getJob(id))!.attemptsStarted ?? 0, `late job ${id}`).toBe(0);
    expect(await system.queue.getJobCounts('active', 'waiting')).toEqual({ active: 0, waiting: 5 });
    // Its own log shows the jobs finishing after the signal, not being cut off.
    expect(first.output()).not.toMatch(/shutdown timeout reached|aborting active jobs/);

    await second.start();
    await sleepUntil(async () => (await Promise.all(late.map((id) => system.queue.getJobState(id)))).every((s) => s === 'completed'), {
      timeoutMs: 15_000,
      message: 'late jobs completed by the second worker',
    });
    console.log(`[graceful-shutdown] drain took ${drainMs} ms after SIGTERM; late jobs sampled waiting ${samples} times`);
  });
});
