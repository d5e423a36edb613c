import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/index.js';
import { publishCronChanged } from '../../src/cron/index.js';
import { sleepUntil, spawnTs, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { insertRow, leads, startSchedulerChild, useSchedulerTestEnv } from './scheduler-kit.js';

type Run = { jobId: string; type: string; cronJobId: string; pid: number; at: number };

// Two scheduler processes and two worker processes on one every-second cron: each tick must
// run once — none twice, none skipped — including across a leader crash.
describe('cron ticks run exactly once', () => {
  const kit = useSchedulerTestEnv('once');

  async function startWorker(list: string): Promise<Child> {
    const child = spawnTs('test/fixtures/cron-worker-process.ts', { REDIS_URL: TEST_REDIS_URL, TEST_PREFIX: kit.prefix, TEST_LIST: list });
    kit.children.push(child);
    await sleepUntil(() => child.output().includes('worker-ready') || child.proc.exitCode !== null, { timeoutMs: 20_000, message: 'worker ready' });
    if (child.proc.exitCode !== null) throw new Error(`worker exited early:\n${child.output()}`);
    return child;
  }

  it('a */1 * * * * * cron with 2 schedulers (the leader killed midway) and 2 workers: every tick once', { timeout: 60_000 }, async () => {
    const list = `${kit.prefix}:runs`;
    const env = { prefix: kit.prefix, schema: kit.t.schema, ttlMs: 2_000, renewMs: 400, retryMs: 300, reconcileMs: 1_000 };
    const [schedulers, workers] = await Promise.all([
      Promise.all([startSchedulerChild(env), startSchedulerChild(env)]),
      Promise.all([startWorker(list), startWorker(list)]),
    ]);
    kit.children.push(...schedulers);
    await sleepUntil(() => schedulers.some(leads), { message: 'a leader' });
    const row = await insertRow(kit.t.db, { pattern: '*/1 * * * * *', payload: { message: 'tick' } });
    await publishCronChanged(kit.redis, redisKeys(kit.prefix, 'jobs'), { cronJobId: row.id, op: 'create' });

    const runs = async () => (await kit.redis.lrange(list, 0, -1)).map((s) => JSON.parse(s) as Run);
    await sleepUntil(async () => (await runs()).length >= 4, { timeoutMs: 10_000, message: 'first ticks' });
    // The leader dies; the standby takes over and reconciles (every second, too) while ticks go on.
    const leader = schedulers.find(leads)!;
    leader.kill('SIGKILL');
    await sleepUntil(() => schedulers.some((s) => s !== leader && leads(s)), { timeoutMs: 10_000, message: 'takeover' });
    await sleepUntil(async () => (await runs()).length >= 10, { timeoutMs: 15_000, message: '10 ticks' });

    // Stop the cron, then let the last tick that was already due finish.
    await kit.t.db.updateTable('cron_job').set({ enabled: false }).where('id', '=', row.id).execute();
    await publishCronChanged(kit.redis, redisKeys(kit.prefix, 'jobs'), { cronJobId: row.id, op: 'update' });
    await sleepUntil(async () => (await kit.queue.getJobScheduler(row.job_id)) === undefined, { message: 'scheduler removed' });
    await sleepUntil(async () => (await kit.queue.getActiveCount()) + (await kit.queue.getWaitingCount()) === 0, { message: 'queue drained' });

    const all = await runs();
    const ticks = all.map((r) => {
      const m = /^repeat:(.+):(\d+)$/.exec(r.jobId);
      expect(m, `job id ${r.jobId} names its scheduler and tick`).not.toBeNull();
      expect(m![1]).toBe(row.job_id);
      return Number(m![2]);
    });
    const perTick = new Map<number, number>();
    for (const tick of ticks) perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    const duplicated = [...perTick].filter(([, n]) => n > 1);
    expect(duplicated, 'ticks that ran more than once').toEqual([]);
    // Consecutive seconds from the first tick to the last: none skipped.
    const sorted = [...perTick.keys()].sort((a, b) => a - b);
    expect(sorted.every((tick) => tick % 1_000 === 0)).toBe(true);
    const skipped = sorted.slice(1).filter((tick, i) => tick - sorted[i]! !== 1_000);
    expect(skipped, 'ticks after a gap').toEqual([]);
    expect(sorted.length).toBeGreaterThanOrEqual(10);
    // Every run was made by one of the workers and knew it was a cron run of this row.
    const workerPids = workers.map((w) => w.proc.pid);
    expect(all.every((r) => workerPids.includes(r.pid))).toBe(true);
    expect(all.every((r) => r.type === 'cron' && r.cronJobId === row.id)).toBe(true);
  });
});
