import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, type JobClient } from '../../src/index.js';
import { cleanupPrefix, killAll, sleepUntil, startWorkerChild, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

type Event = { event: string; jobId: string; pid: number; attempt?: number };

describe('worker processes', () => {
  let prefix: string;
  let client: JobClient<typeof testHandlers>;
  const children: Child[] = [];
  const events = async (list: string): Promise<Event[]> => (await redis.lrange(list, 0, -1)).map((s) => JSON.parse(s) as Event);
  const startWorker = async (env: Record<string, string> = {}) => {
    const child = await startWorkerChild(prefix, env);
    children.push(child);
    return child;
  };

  beforeEach(() => {
    prefix = testPrefix('proc');
    client = createJobClient({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await killAll(children);
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('SIGTERM lets the active job finish, takes nothing new, and exits 0', async () => {
    const list = `${prefix}:events`;
    const worker = await startWorker({ TEST_CONCURRENCY: '1' });
    const first = await client.enqueueJob('slow', { list, ms: 1_500 });
    await sleepUntil(async () => (await events(list)).some((e) => e.event === 'start'), { message: 'job started' });
    const second = await client.enqueueJob('slow', { list, ms: 10 });

    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    expect((await client.getJob(first))?.state).toBe('completed');
    expect((await client.getJob(first))?.result).toEqual({ aborted: false });
    // The job that was waiting at the signal is still waiting for the next worker.
    expect((await client.getJob(second))?.state).toBe('waiting');
    expect((await events(list)).map((e) => e.event)).toEqual(['start', 'end']);
    expect(worker.output()).toContain('worker-closed');
  });

  it('SIGTERM past the shutdown timeout aborts the job through ctx.signal, then exits 0', async () => {
    const list = `${prefix}:events`;
    const worker = await startWorker({ TEST_SHUTDOWN_MS: '300' });
    const id = await client.enqueueJob('slow', { list, ms: 60_000 });
    await sleepUntil(async () => (await events(list)).some((e) => e.event === 'start'), { message: 'job started' });
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect((await events(list)).map((e) => e.event)).toEqual(['start', 'aborted']);
    // Interrupted, not done: it is back in the queue for the next worker, no attempt spent.
    const info = await client.getJob(id);
    expect(['waiting', 'delayed']).toContain(info?.state);
    expect(info?.attemptsMade).toBe(0);
  });

  it('a worker killed with SIGKILL mid-job: another worker runs the job again once its lock lapses', async () => {
    const list = `${prefix}:events`;
    const env = { TEST_LOCK_MS: '1000' };
    const doomed = await startWorker(env);
    const id = await client.enqueueJob('slow', { list, ms: 2_000 });
    const [started] = await sleepUntil(async () => {
      const e = await events(list);
      return e.length > 0 && e;
    });
    expect(started!.pid).toBe(doomed.proc.pid);
    doomed.kill('SIGKILL');
    await doomed.exited;

    const rescuer = await startWorker(env);
    const done = await sleepUntil(async () => (await client.getJob(id))?.state === 'completed' && (await events(list)), {
      timeoutMs: 20_000,
      message: 'job completed by the second worker',
    });
    const byRescuer = done.filter((e) => e.pid === rescuer.proc.pid).map((e) => e.event);
    expect(byRescuer).toEqual(['start', 'end']);
    expect(done.some((e) => e.pid === doomed.proc.pid && e.event === 'end')).toBe(false);
  });
});
