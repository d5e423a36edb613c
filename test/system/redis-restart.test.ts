import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleepUntil } from '../helpers/index.js';
import { PersistentRedis } from './lib/persistent-redis.js';
import { startSystem, type System } from './lib/system.js';

// Scenario: Redis (AOF, fsync always) is killed -9 in the middle of a run and started again on
// the same port. While it is down the API answers POST /job with 503 quickly (not 500, no hang);
// it recovers after the restart, the workers reconnect, every job acknowledged with 201 completes,
// and the job scheduler of a cron row is still there.

const CLIENTS = 10;
const LOCK_MS = 3_000;
const OUTAGE_MS = 4_000;

interface Sent {
  at: number;
  ms: number;
  status: number | string;
  id?: string;
  retryAfter?: string | null;
}

describe('system: Redis restarted mid-run', () => {
  let redis: PersistentRedis;
  let system: System;
  const t0 = Date.now();

  beforeAll(async () => {
    redis = await PersistentRedis.start();
    system = await startSystem({ redisUrl: redis.url, workers: 2, schedulers: 2, workerEnv: { WORKER_LOCK_DURATION_MS: String(LOCK_MS) } });
  }, 120_000);
  afterAll(async () => {
    // Redis must be up for the cleanup of the prefix (it is deleted with its folder anyway).
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await system?.stop();
    await redis?.destroy();
    console.log(`[redis-restart] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  it('503 while down, recovers, no acknowledged job lost, schedulers kept', { timeout: 150_000 }, async () => {
    const cron = await system.call('POST', '/api/admin/cronJob', { name: 'yearly', pattern: '0 0 1 1 *', handler: 'echo', payload: { message: 'new year' } });
    expect(cron.status).toBe(201);
    const { jobId: schedulerId } = (await cron.json()) as { jobId: string };
    const schedulerIds = async () => (await system.queue.getJobSchedulers()).map((s) => s.key);
    await sleepUntil(async () => (await schedulerIds()).includes(schedulerId), { timeoutMs: 15_000, message: 'the cron row as a job scheduler' });

    const sent: Sent[] = [];
    const started = Date.now();
    let stop = false;
    const load = Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          const at = Date.now();
          try {
            const res = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: `c${c} #${i}`, delayMs: 200 } }, { timeoutMs: 15_000 });
            const body = (await res.json()) as { id?: string };
            sent.push({ at: at - started, ms: Date.now() - at, status: res.status, id: body.id, retryAfter: res.headers.get('retry-after') });
            if (res.status !== 201) await new Promise((resolve) => setTimeout(resolve, 50));
          } catch (err) {
            sent.push({ at: at - started, ms: Date.now() - at, status: `error ${(err as Error).name}` });
          }
        }
      }),
    );

    // Some jobs done, some running, some waiting: then Redis dies.
    await sleepUntil(() => sent.filter((s) => s.status === 201).length >= 300, { timeoutMs: 30_000, message: '300 enqueued' });
    const acceptedBeforeKill = sent.filter((s) => s.status === 201).length;
    const killAt = Date.now() - started;
    await redis.kill9();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 2));
    const readyWhileDown = await system.call('GET', '/readyz', undefined, { timeoutMs: 10_000 });
    const healthWhileDown = await system.call('GET', '/healthz', undefined, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 2));
    const restartAt = Date.now() - started;
    await redis.start();
    const restartedAt = Date.now() - started;
    // Run on until the API has accepted jobs again for a while.
    await sleepUntil(() => sent.filter((s) => s.at > restartedAt && s.status === 201).length >= 200, { timeoutMs: 30_000, message: '200 accepted after the restart' }).catch(() => undefined);
    stop = true;
    await load;

    const during = sent.filter((s) => s.at > killAt + 500 && s.at + s.ms < restartAt);
    const statusesDuring: Record<string, number> = {};
    for (const s of during) statusesDuring[String(s.status)] = (statusesDuring[String(s.status)] ?? 0) + 1;
    const firstOkAfter = sent.filter((s) => s.at >= restartedAt && s.status === 201).sort((a, b) => a.at - b.at)[0];
    const byStatus: Record<string, number> = {};
    for (const s of sent) byStatus[String(s.status)] = (byStatus[String(s.status)] ?? 0) + 1;
    const report = {
      requests: sent.length,
      byStatus,
      acceptedBeforeKill,
      killAt,
      restartAt,
      redisBackAfterMs: restartedAt - restartAt,
      statusesWhileDown: statusesDuring,
      maxLatencyWhileDownMs: Math.max(0, ...during.map((s) => s.ms)),
      firstAcceptedAfterRestartMs: firstOkAfter ? firstOkAfter.at - restartedAt : null,
      readyzWhileDown: readyWhileDown.status,
      healthzWhileDown: healthWhileDown.status,
    };
    console.log(`[redis-restart] ${JSON.stringify(report)}`);

    expect(Object.keys(byStatus).filter((s) => s !== '201' && s !== '503'), `only 201 and 503 (${JSON.stringify(byStatus)})\n${system.api.output().slice(-3_000)}`).toEqual([]);
    expect(during.length, 'requests made while Redis was down').toBeGreaterThan(10);
    expect(Object.keys(statusesDuring), 'while down: 503 only').toEqual(['503']);
    expect(during.every((s) => s.retryAfter), '503 carries Retry-After').toBe(true);
    expect(report.maxLatencyWhileDownMs, '503 comes fast, no hang').toBeLessThan(6_000);
    expect(readyWhileDown.status).toBe(503);
    expect(healthWhileDown.status, 'liveness does not depend on Redis').toBe(200);
    expect(firstOkAfter, 'accepted again after the restart').toBeDefined();

    // Every acknowledged job completes: the AOF kept them, the workers reconnected.
    const accepted = sent.filter((s) => s.status === 201).map((s) => s.id!);
    expect(new Set(accepted).size).toBe(accepted.length);
    const states = async () => {
      const pipeline = system.redis.pipeline();
      for (const id of accepted) pipeline.zscore(`${system.prefix}:${system.queueName}:completed`, id);
      return (await pipeline.exec())!.map(([, v]) => v !== null);
    };
    let done: boolean[] = [];
    await sleepUntil(async () => (done = await states()).every(Boolean), { timeoutMs: 60_000, intervalMs: 250, message: 'every accepted job completed' }).catch(() => undefined);
    const notDone = accepted.filter((_, i) => !done[i]);
    const notDoneStates = await Promise.all(notDone.slice(0, 10).map(async (id) => `${id}:${await system.queue.getJobState(id)}`));
    expect(notDone, `accepted but not completed (${notDoneStates.join(', ')})\n${system.dump()}`).toEqual([]);
    const counts = await system.queue.getJobCounts('failed', 'active', 'waiting', 'delayed');
    expect({ ...counts, delayed: 0 }).toEqual({ failed: 0, active: 0, waiting: 0, delayed: 0 });

    // Both workers are connected again (readiness pings Redis) and the scheduler survived.
    for (const s of system.all()) {
      expect(s.running, `${s.name} still running\n${s.output().slice(-2_000)}`).toBe(true);
      await sleepUntil(async () => (await fetch(`${s.url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 15_000, message: `${s.name} ready again` });
    }
    expect(await schedulerIds()).toContain(schedulerId);
    // Re-runs after the outage: jobs that were active when Redis died.
    const stalled = (await Promise.all(accepted.map((id) => system.queue.getJob(id)))).filter((j) => (j?.attemptsStarted ?? 0) > 1).length;
    console.log(`[redis-restart] accepted ${accepted.length}, all completed; started more than once: ${stalled}`);
  });
});
