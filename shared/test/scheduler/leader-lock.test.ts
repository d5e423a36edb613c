import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLeaderLock, type DeposedReason, type LeaderLock } from '../../src/scheduler/index.js';
import { cleanupPrefix, sleepUntil, startTcpProxy, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';

/** Checks `invariant` every 20 ms for `ms` (an invariant over time, not a wait for an event). */
async function holdsFor(invariant: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(invariant()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('leader lock', () => {
  const opened: Redis[] = [];
  const locks: LeaderLock[] = [];
  let prefix = '';
  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.stop();
    for (const r of opened.splice(0)) r.disconnect();
    await cleanupPrefix(prefix);
  });

  function contender(key: string, timings = { ttlMs: 1_000, renewMs: 200, retryMs: 100 }) {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    opened.push(redis);
    const events: Array<'elected' | DeposedReason> = [];
    const lock = createLeaderLock({ redis, key, ...timings, onElected: () => events.push('elected'), onDeposed: (r) => events.push(r) });
    locks.push(lock);
    return { lock, events, redis };
  }

  it('exactly one of several contenders leads; the key names it; a release hands over', async () => {
    prefix = testPrefix('lock');
    const key = `${prefix}:leader`;
    const all = [contender(key), contender(key), contender(key)];
    for (const c of all) c.lock.start();
    await sleepUntil(() => all.some((c) => c.lock.isLeader), { message: 'a leader' });
    // Through many retry rounds of the others there is never more than one.
    await holdsFor(() => all.filter((c) => c.lock.isLeader).length === 1, 800);
    const leader = all.find((c) => c.lock.isLeader)!;
    expect(await leader.redis.get(key)).toBe(leader.lock.token);
    expect(leader.lock.token).toMatch(new RegExp(`/${process.pid}/`));

    await leader.lock.stop();
    expect(leader.events).toEqual(['elected', 'released']);
    await sleepUntil(() => all.some((c) => c !== leader && c.lock.isLeader), { timeoutMs: 2_000, message: 'a new leader' });
    expect(all.filter((c) => c.lock.isLeader)).toHaveLength(1);
  });

  it('keeps the lock past its TTL by renewing it', async () => {
    prefix = testPrefix('lock');
    const key = `${prefix}:leader`;
    const a = contender(key, { ttlMs: 600, renewMs: 150, retryMs: 100 });
    a.lock.start();
    await sleepUntil(() => a.lock.isLeader, { message: 'elected' });
    const token = a.lock.token;
    // For three TTLs: same holder, never deposed.
    await holdsFor(() => a.lock.isLeader, 1_800);
    expect(a.lock.token).toBe(token);
    expect(a.events).toEqual(['elected']);
  });

  it('a renewal that finds the lock taken deposes at once (lost); it competes again afterwards', async () => {
    prefix = testPrefix('lock');
    const key = `${prefix}:leader`;
    const a = contender(key);
    a.lock.start();
    await sleepUntil(() => a.lock.isLeader, { message: 'elected' });
    await a.redis.set(key, 'intruder', 'PX', 500);
    await sleepUntil(() => a.events.includes('lost'), { timeoutMs: 1_000, message: 'lost' });
    expect(a.lock.isLeader).toBe(false);
    await sleepUntil(() => a.lock.isLeader, { timeoutMs: 2_000, message: 're-elected after the intruder expired' });
    expect(a.events).toEqual(['elected', 'lost', 'elected']);
  });

  it('a release announced while an attempt is in flight is not missed: the standby takes over at once, not a retry later', async () => {
    prefix = testPrefix('lock');
    const key = `${prefix}:leader`;
    const admin = new Redis(TEST_REDIS_URL);
    opened.push(admin);
    await admin.set(key, 'another-process', 'PX', 30_000);
    // The lock reaches the real Redis over a link that holds every reply back 300 ms.
    const proxy = await startTcpProxy({ targetPort: Number(new URL(TEST_REDIS_URL).port || 6379), targetHost: new URL(TEST_REDIS_URL).hostname, replyDelayMs: 300 });
    try {
      const redis = new Redis(`redis://127.0.0.1:${proxy.port}`, { maxRetriesPerRequest: 1 });
      opened.push(redis);
      await redis.ping();
      const lock = createLeaderLock({ redis, key, ttlMs: 30_000, renewMs: 5_000, retryMs: 30_000, onElected: () => undefined, onDeposed: () => undefined });
      locks.push(lock);
      const before = proxy.replies();
      lock.start();
      // Redis has refused the attempt (the lock is held); its answer is still on the way.
      await sleepUntil(() => proxy.replies() > before, { message: 'the attempt answered by Redis' });
      await admin.del(key);
      lock.tryNow(); // the holder's release announcement
      await sleepUntil(() => lock.isLeader, { timeoutMs: 5_000, message: 'the standby to take over' });
    } finally {
      for (const lock of locks.splice(0)) await lock.stop();
      await proxy.close();
    }
  });

  it('a leader that cannot reach Redis is deposed (expired) before its TTL runs out', async () => {
    prefix = testPrefix('lock');
    const key = `${prefix}:leader`;
    const a = contender(key, { ttlMs: 1_000, renewMs: 200, retryMs: 100 });
    a.lock.start();
    await sleepUntil(() => a.lock.isLeader, { message: 'elected' });
    const cutAt = Date.now();
    a.redis.disconnect(); // renewals now fail; the key expires in Redis after 1 s at most
    await sleepUntil(() => a.events.includes('expired'), { timeoutMs: 2_000, message: 'expired' });
    expect(Date.now() - cutAt).toBeLessThan(1_000);
  });
});
