import { describe, expect, it } from 'vitest';
import { redisKeys } from '@jobs/shared/redis';
import { publishCronChanged } from '@jobs/shared/cron';
import { freePort } from '../../../scripts/lib/free-port.js';
import { sleepUntil, spawnTs, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { useSchedulerTestEnv } from '../../../shared/test/scheduler/scheduler-kit.js';
import { databaseUrlFor } from '../../../test/deploy/lib/service-process.js';

// The service entry point as a deployment runs it: a real process, configured by its environment.
describe('scheduler service (services/scheduler/src/main.ts)', () => {
  const kit = useSchedulerTestEnv('svc');

  async function startService(port: number): Promise<Child> {
    const child = spawnTs('services/scheduler/src/main.ts', {
      APP_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: databaseUrlFor(kit.t.schema),
      QUEUE_PREFIX: kit.prefix,
      SCHEDULER_PORT: String(port),
      SCHEDULER_RECONCILE_MS: '60000',
      LOG_LEVEL: 'info',
    });
    kit.children.push(child);
    await sleepUntil(
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`exited early:\n${child.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: '/healthz' },
    );
    return child;
  }
  const metric = async (port: number, name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('leads, syncs rows, answers /healthz, /readyz and /metrics; SIGTERM releases the lock and exits 0', async () => {
    const row = await kit.t.db
      .insertInto('cron_job')
      .values({ job_id: 'nightly-report', name: 'Nightly report', pattern: '0 2 * * *', handler: 'echo', payload: { message: 'report' } })
      .returningAll()
      .executeTakeFirstOrThrow();
    const port = await freePort();
    const child = await startService(port);

    await sleepUntil(async () => (await metric(port, 'scheduler_is_leader')) === 1, { message: 'leader' });
    await sleepUntil(async () => (await kit.queue.getJobSchedulers()).some((s) => s.key === 'nightly-report'), { message: 'row synced at start' });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    await sleepUntil(async () => ((await metric(port, 'scheduler_last_pass_timestamp_seconds')) ?? 0) > 0, { message: 'last pass time' });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/scheduler_rows\{outcome="upserted",service="scheduler"\} 1/);
    expect(text).toMatch(/scheduler_passes_total\{kind="full",result="ok",service="scheduler"\} 1/);

    // A change published as the admin API does is applied.
    await kit.t.db.updateTable('cron_job').set({ pattern: '30 2 * * *' }).where('id', '=', row.id).execute();
    await publishCronChanged(kit.redis, redisKeys(kit.prefix, 'jobs'), { cronJobId: row.id, op: 'update' });
    await sleepUntil(async () => (await kit.queue.getJobScheduler('nightly-report'))?.pattern === '30 2 * * *', { message: 'pattern updated' });

    const lockKey = redisKeys(kit.prefix, 'jobs').schedulerLeader;
    expect(await kit.redis.get(lockKey)).toContain(`/${child.proc.pid}/`);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(await kit.redis.exists(lockKey)).toBe(0);
    expect(child.output()).toContain('leader lock released');
    // Shutting down removes nothing: the schedulers stay for the next leader, the built-in
    // retention (SPEC §14, no cron row) among them.
    expect((await kit.queue.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['builtin:webhookEventRetention', 'nightly-report']);
    expect(await kit.queue.getJobScheduler('builtin:webhookEventRetention')).toMatchObject({ pattern: '17 3 * * *', tz: 'UTC', name: 'webhookEventRetention' });
  });
});
