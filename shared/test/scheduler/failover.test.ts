import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/index.js';
import { publishCronChanged } from '../../src/cron/index.js';
import { sleepUntil, type Child } from '../../../test/helpers/index.js';
import { electedAt, insertRow, leads, passesOf, startSchedulerChild, untilSchedulers, useSchedulerTestEnv, type SchedulerChildEnv } from './scheduler-kit.js';

// Real scheduler processes competing for the leader lock.
describe('scheduler leadership across processes', () => {
  const kit = useSchedulerTestEnv('lead');

  async function startTwo(env: Partial<SchedulerChildEnv> = {}): Promise<[leader: Child, standby: Child]> {
    const pair = await Promise.all([startSchedulerChild({ prefix: kit.prefix, schema: kit.t.schema, ...env }), startSchedulerChild({ prefix: kit.prefix, schema: kit.t.schema, ...env })]);
    kit.children.push(...pair);
    await sleepUntil(() => pair.some(leads), { message: 'a leader' });
    const leader = pair.find(leads)!;
    return [leader, pair.find((c) => c !== leader)!];
  }
  const ids = (s: Array<{ id: string }>) => s.map((x) => x.id).sort();
  const lockHolderPid = async () => (await kit.redis.get(redisKeys(kit.prefix, 'jobs').schedulerLeader))?.split('/')[1];

  it('exactly one of two processes leads and syncs; kill -9 the leader → the other takes over within the lock TTL and syncs at once', async () => {
    const ttlMs = 2_000;
    const retryMs = 300;
    const [leader, standby] = await startTwo({ ttlMs, retryMs });
    expect(await lockHolderPid()).toBe(String(leader.proc.pid));
    const row = await insertRow(kit.t.db);
    await publishCronChanged(kit.redis, redisKeys(kit.prefix, 'jobs'), { cronJobId: row.id, op: 'create' });
    await untilSchedulers(kit.queue, ids, [row.job_id]);
    // Only the leader ever passed over the rows; the standby did nothing.
    expect(passesOf(leader).length).toBeGreaterThan(0);
    expect(passesOf(standby)).toEqual([]);
    expect(leads(standby)).toBe(false);

    leader.kill('SIGKILL');
    await leader.exited;
    const diedAt = Date.now();
    // Added with plain SQL and no message while nobody leads: only the new leader's first pass can sync it.
    const orphaned = await insertRow(kit.t.db);
    await sleepUntil(() => leads(standby), { timeoutMs: 15_000, message: 'the standby to take over' });
    // SPEC §5: within ~15 s of the leader's death (here the TTL is 2 s; the bound leaves room for a loaded CI machine).
    expect(electedAt(standby)! - diedAt).toBeLessThan(15_000);
    expect(await lockHolderPid()).toBe(String(standby.proc.pid));
    await untilSchedulers(kit.queue, ids, [row.job_id, orphaned.job_id].sort());
    // The pass is logged after its writes land; wait for the line rather than racing it.
    await sleepUntil(() => passesOf(standby).length > 0, { message: "the new leader's first pass logged" });
    expect(passesOf(standby)[0]).toMatchObject({ kind: 'full', outcome: 'ok', result: { upserted: 1, unchanged: 1, removed: 0, failed: 0 } });
  });

  it('SIGTERM on the leader releases the lock: the standby takes over at once, long before the TTL', async () => {
    // A 30 s TTL and a 10 s retry: only the release (and its announcement) explains a quick takeover.
    const [leader, standby] = await startTwo({ ttlMs: 30_000, renewMs: 5_000, retryMs: 10_000 });
    leader.kill('SIGTERM');
    expect(await leader.exited).toBe(0);
    expect(leader.output()).toContain('scheduler-closed');
    const exitedAt = Date.now();
    await sleepUntil(() => leads(standby), { timeoutMs: 5_000, message: 'the standby to take over' });
    // Far below the 10 s standby retry: only the release (and its announcement) explains it.
    expect(electedAt(standby)! - exitedAt).toBeLessThan(5_000);
    expect(await lockHolderPid()).toBe(String(standby.proc.pid));

    const row = await insertRow(kit.t.db);
    await publishCronChanged(kit.redis, redisKeys(kit.prefix, 'jobs'), { cronJobId: row.id, op: 'create' });
    await untilSchedulers(kit.queue, ids, [row.job_id]);
  });
});
