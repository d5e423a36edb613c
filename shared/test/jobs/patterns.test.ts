import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, killAll, sleepUntil, spawnTs, startWorkerChild, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';
import { allTestHandlers } from '../../../test/fixtures/test-handlers.js';

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

type Event = { event: string; tag: string; jobId?: string; pid: number; at: number; reason?: string };

let prefix: string;
let client: JobClient<typeof allTestHandlers>;
const children: Child[] = [];
let inProcess: JobWorker | undefined;
const events = async (ns: string): Promise<Event[]> => (await redis.lrange(`${ns}:events`, 0, -1)).map((s) => JSON.parse(s) as Event);
const waitFor = (ns: string, pred: (e: Event[]) => boolean, message: string, timeoutMs = 15_000) =>
  sleepUntil(async () => {
    const e = await events(ns);
    return pred(e) && e;
  }, { message, timeoutMs });
const stateOf = async (id: string) => (await client.getJob(id))?.state;
const worker = async (env: Record<string, string> = {}) => {
  const child = await startWorkerChild(prefix, env);
  children.push(child);
  return child;
};

beforeEach(() => {
  prefix = testPrefix('pat');
  client = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix });
});
afterEach(async () => {
  await killAll(children);
  await inProcess?.close();
  inProcess = undefined;
  await client.close();
  await cleanupPrefix(prefix);
});

describe('makeSingletonJob', () => {
  it('never runs two at once across 2 processes × concurrency 10; all 5 complete, no attempt spent on waiting', async () => {
    const ns = `${prefix}:single`;
    await worker();
    await worker();
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => client.enqueueJob('exclusive', { ns, ms: 150, tag: `j${n}` })));
    await sleepUntil(async () => (await Promise.all(ids.map(stateOf))).every((s) => s === 'completed'), { timeoutMs: 30_000, message: 'all 5 singleton jobs completed' });
    expect(await redis.get(`${ns}:max`)).toBe('1');
    const infos = await Promise.all(ids.map((id) => client.getJob(id)));
    expect(infos.map((i) => i?.attemptsMade)).toEqual([1, 1, 1, 1, 1]);
    const ev = await events(ns);
    // Start/end strictly alternate: each run ended before the next began.
    expect(ev.map((e) => e.event)).toEqual(Array.from({ length: 5 }, () => ['start', 'end']).flat());
    // None ran on a retry: waiting for the lock spent no attempt.
    expect(ev.filter((e) => e.event === 'start').every((e) => (e as Event & { attempt: number }).attempt === 1)).toBe(true);
  });

  it('a holder killed with SIGKILL does not block forever: the next job runs once the lock expires', async () => {
    const ns = `${prefix}:crash`;
    const env = { TEST_SINGLETON_TTL_MS: '1500', TEST_LOCK_MS: '60000' };
    const holder = await worker(env);
    await client.enqueueJob('exclusive', { ns, ms: 60_000, tag: 'holder' });
    const [start] = await waitFor(ns, (e) => e.length > 0, 'holder started');
    holder.kill('SIGKILL');
    await holder.exited;
    const killedAt = Date.now();

    await worker(env);
    const next = await client.enqueueJob('exclusive', { ns, ms: 10, tag: 'next' });
    await sleepUntil(async () => (await stateOf(next)) === 'completed', { timeoutMs: 20_000, message: 'next singleton completed' });
    const nextStart = (await events(ns)).find((e) => e.tag === 'next' && e.event === 'start')!;
    expect(start!.tag).toBe('holder');
    // It had to wait for the dead holder's lock to lapse (TTL 1.5 s from its last renewal).
    expect(nextStart.at - killedAt).toBeGreaterThanOrEqual(500);
    expect((await client.getJob(next))?.attemptsMade).toBe(1);
  });

  it('a key function gives one lock per key: different keys run side by side', async () => {
    const { makeSingletonJob } = await import('../../src/index.js');
    const ns = `${prefix}:keyed`;
    const perTenant = makeSingletonJob<{ tenant: string }>(
      async (ctx, p) => {
        await redis.rpush(`${ns}:events`, JSON.stringify({ event: 'start', tag: p.tenant, pid: process.pid, at: Date.now() }));
        await sleepUntil(async () => (await redis.llen(`${ns}:events`)) >= 2, { timeoutMs: 5_000, message: 'other tenant running too' });
        void ctx;
      },
      { key: (p) => p.tenant },
    );
    const handlers = { perTenant };
    const keyed = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
    inProcess = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
    try {
      const a = await keyed.enqueueJob('perTenant', { tenant: 'a' });
      const b = await keyed.enqueueJob('perTenant', { tenant: 'b' });
      // Each waits until the other has started: only possible if they overlap.
      await sleepUntil(async () => (await keyed.getJob(a))?.state === 'completed' && (await keyed.getJob(b))?.state === 'completed', { message: 'both tenants done' });
    } finally {
      await keyed.close();
    }
  });
});

describe('makeSupersedingJob', () => {
  const enqueueFromAnotherProcess = async (payload: object) => {
    const producer = spawnTs('test/fixtures/enqueue-latest.ts', { REDIS_URL: TEST_REDIS_URL, TEST_PREFIX: prefix }, [JSON.stringify(payload)]);
    expect(await producer.exited).toBe(0);
    return JSON.parse(producer.output().trim().split('\n').pop()!) as { id: string; sentAt: number };
  };

  it('across processes: B enqueued from a third process aborts running A through ctx.signal; A ends superseded, B completes', async () => {
    const ns = `${prefix}:sup`;
    await worker();
    await worker();
    const a = await client.enqueueJob('latest', { ns, key: 'K', tag: 'A', ms: 60_000 });
    const [aStart] = await waitFor(ns, (e) => e.some((x) => x.tag === 'A' && x.event === 'start'), 'A started');

    const b = await enqueueFromAnotherProcess({ ns, key: 'K', tag: 'B', ms: 50 });
    const ev = await waitFor(ns, (e) => e.some((x) => x.tag === 'B' && x.event === 'end'), 'B completed');
    const aborted = ev.find((x) => x.tag === 'A' && x.event === 'aborted')!;
    expect(aborted).toMatchObject({ reason: 'superseded', pid: aStart!.pid });
    expect(aborted.at).toBeGreaterThanOrEqual(b.sentAt);
    expect(ev.some((x) => x.tag === 'A' && x.event === 'end')).toBe(false);

    await sleepUntil(async () => (await stateOf(a)) === 'superseded', { message: 'A superseded' });
    const aInfo = await client.getJob(a);
    expect(aInfo).toMatchObject({ state: 'superseded', attemptsMade: 1, failedReason: undefined, result: { $outcome: 'superseded', supersededBy: b.id } });
    await sleepUntil(async () => (await stateOf(b.id)) === 'completed', { message: 'B completed' });
  }, 60_000);

  it('three quick enqueues while none runs: never two waiting, only the last payload runs', async () => {
    const ns = `${prefix}:burst`;
    const ids: string[] = [];
    for (const tag of ['first', 'second', 'third']) {
      ids.push(await client.enqueueJob('latest', { ns, key: 'K', tag, ms: 10 }));
      expect(await client.queue.getWaitingCount()).toBe(1);
    }
    expect(await stateOf(ids[0]!)).toBeUndefined(); // removed, not left to run
    expect(await stateOf(ids[1]!)).toBeUndefined();
    await worker();
    await sleepUntil(async () => (await stateOf(ids[2]!)) === 'completed', { message: 'last completed' });
    expect((await events(ns)).filter((e) => e.event === 'start').map((e) => e.tag)).toEqual(['third']);
  });

  it('different keys do not affect each other', async () => {
    const ns = `${prefix}:keys`;
    await worker();
    const a = await client.enqueueJob('latest', { ns, key: 'K1', tag: 'A', ms: 400 });
    await waitFor(ns, (e) => e.some((x) => x.tag === 'A' && x.event === 'start'), 'A started');
    const b = await client.enqueueJob('latest', { ns, key: 'K2', tag: 'B', ms: 10 });
    const c = await client.enqueueJob('latest', { ns, key: 'K3', tag: 'C', ms: 10 });
    await sleepUntil(async () => (await Promise.all([a, b, c].map(stateOf))).every((s) => s === 'completed'), { message: 'all completed' });
    expect((await events(ns)).some((e) => e.event === 'aborted')).toBe(false);
  });
});

describe('cancelJob', () => {
  it('removes a waiting job and a delayed job', async () => {
    const waiting = await client.enqueueJob('slow', { list: `${prefix}:l`, ms: 10 });
    const delayed = await client.enqueueJob('slow', { list: `${prefix}:l`, ms: 10 }, { delay: 60_000 });
    expect(await client.cancelJob(waiting)).toBe('removed');
    expect(await client.cancelJob(delayed)).toBe('removed');
    expect(await stateOf(waiting)).toBeUndefined();
    expect(await stateOf(delayed)).toBeUndefined();
    expect(await client.cancelJob('no-such-job')).toBe('not_found');
  });

  it('aborts a running job in another process; it ends cancelled, not retried', async () => {
    const list = `${prefix}:run`;
    await worker();
    const id = await client.enqueueJob('slow', { list, ms: 60_000 }, { attempts: 3 });
    await sleepUntil(async () => (await redis.llen(list)) > 0, { message: 'job started' });
    expect(await client.cancelJob(id)).toBe('aborting');
    await sleepUntil(async () => (await stateOf(id)) === 'cancelled', { message: 'job cancelled' });
    const info = await client.getJob(id);
    expect(info).toMatchObject({ state: 'cancelled', failedReason: 'job cancelled' });
    const ev = (await redis.lrange(list, 0, -1)).map((s) => (JSON.parse(s) as { event: string }).event);
    expect(ev).toEqual(['start', 'aborted']);
    expect(await client.cancelJob(id)).toBe('finished');
  });
});
