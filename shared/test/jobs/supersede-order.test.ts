import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { supersedeOlder } from '../../src/jobs/patterns/supersede.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { allTestHandlers } from '../../../test/fixtures/test-handlers.js';

// SPEC §14: supersede picks the newest job by enqueue order even when enqueues race; the "latest"
// pointer expires with its job; a cancelled or vanished job does not mark later runs superseded.

const redis = new Redis(TEST_REDIS_URL);
afterAll(() => redis.quit());

const DAY_MS = 24 * 3600_000;
type LatestPayload = { ns: string; key: string; tag: string; ms: number };
type Event = { event: string; tag: string; jobId: string; reason?: string };

let prefix: string;
let ns: string;
let keys: ReturnType<typeof redisKeys>;
let client: JobClient<typeof allTestHandlers>;
let otherClient: JobClient<typeof allTestHandlers>;
let worker: JobWorker | undefined;

beforeEach(() => {
  prefix = testPrefix('suporder');
  ns = `${prefix}:ns`;
  keys = redisKeys(prefix, 'jobs');
  // Two clients, two connections: their enqueues reach Redis in any interleaving.
  client = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix });
  otherClient = createJobClient({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await client.close();
  await otherClient.close();
  await cleanupPrefix(prefix);
});

const startWorker = () => {
  worker = createWorker({ handlers: allTestHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log });
};
/** The pointer key of the `latest` test handler (its key function: `job:latest:<key>`). */
const latestKeyOf = (key: string) => keys.supersedeLatest('latest', `job:latest:${key}`);
/** The pointer as stored: `<stamp> <jobId>`; the job id part is empty once its job is done. */
const pointerJobId = async (key: string) => {
  const value = await redis.get(latestKeyOf(key));
  if (value === null) return undefined;
  const match = /^(\d+) (.*)$/.exec(value);
  return match ? match[2] || undefined : value;
};
const events = async (): Promise<Event[]> => (await redis.lrange(`${ns}:events`, 0, -1)).map((s) => JSON.parse(s) as Event);
const payload = (tag: string, key = 'K', ms = 10): LatestPayload => ({ ns, key, tag, ms });
/** `job.data` as our client writes it for a superseding job with order stamp `seq`. */
const stampedData = (seq: number, tag: string, key = 'K', ms = 10) => ({ supersedeSeq: seq, type: 'adhoc', payload: payload(tag, key, ms) });
const waitingTags = async () => (await client.queue.getJobs(['waiting', 'delayed', 'prioritized'])).map((j) => (j.data as { payload: LatestPayload }).payload.tag);
const deps = () => ({ queue: client.queue, redis, keys });

describe('enqueue order', () => {
  it('a handover that reaches Redis late cannot make the older job the latest (add A, add B, hand over B, then A)', async () => {
    // Custom ids in reverse alphabetical order: the order comes from the stamps, not from ids.
    const a = await client.queue.add('latest', stampedData(1, 'A'), { jobId: 'idem-zzz' });
    const b = await client.queue.add('latest', stampedData(2, 'B'), { jobId: 'idem-aaa' });
    await supersedeOlder(deps(), latestKeyOf('K'), b.id!);
    await supersedeOlder(deps(), latestKeyOf('K'), a.id!);
    expect(await waitingTags()).toEqual(['B']);
    expect(await client.queue.getJobState(a.id!)).toBe('unknown'); // removed
    expect(await pointerJobId('K')).toBe('idem-aaa');
  });

  it('races of 2–5 enqueues from two connections, 50 rounds: one job waits, and it is the one that got the last stamp', async () => {
    for (let round = 0; round < 50; round++) {
      const n = 2 + (round % 4);
      const tags = Array.from({ length: n }, (_, i) => `r${round}-${i}`);
      const ids = await Promise.all(tags.map((tag, i) => (i % 2 ? otherClient : client).enqueueJob('latest', payload(tag))));
      const waiting = await client.queue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(waiting, `round ${round}: exactly one job waits`).toHaveLength(1);
      const survivor = waiting[0]!;
      const data = survivor.data as { supersedeSeq?: number; payload: LatestPayload };
      // "Last" = the enqueue that took the last stamp of this round (nothing else enqueues here).
      expect(data.supersedeSeq, `round ${round}: the survivor holds the last stamp`).toBe(Number(await redis.get(keys.supersedeSeq)));
      // Its payload is the one of the enqueue call that returned its id.
      expect(data.payload.tag).toBe(tags[ids.indexOf(survivor.id!)]);
      expect(await pointerJobId('K')).toBe(survivor.id);
    }
  }, 60_000);

  it('enqueuing again with the same custom id (an idempotent retry) keeps the job: it is not superseded by itself', async () => {
    const first = await client.enqueueJob('latest', payload('once'), { jobId: 'idem-once' });
    // BullMQ adds nothing and returns the existing job; its stored stamp, not the new one, counts.
    const again = await otherClient.enqueueJob('latest', payload('once'), { jobId: 'idem-once' });
    expect(again).toBe(first);
    expect(await waitingTags()).toEqual(['once']);
    startWorker();
    await sleepUntil(async () => (await client.getJob(first))?.state === 'completed', { message: 'idempotent job completed' });
    expect((await events()).map((e) => e.event)).toEqual(['start', 'end']);
  });

  it('a straggling older enqueue does not take over after the newer job finished', async () => {
    // A is delayed so that the worker here runs only B (had it started, the run-start check would end it superseded).
    const a = await client.queue.add('latest', stampedData(1, 'A'), { jobId: 'idem-a', delay: 60_000 });
    const b = await client.queue.add('latest', stampedData(2, 'B'), { jobId: 'idem-b' });
    await supersedeOlder(deps(), latestKeyOf('K'), b.id!);
    startWorker();
    await sleepUntil(async () => (await client.getJob(b.id!))?.state === 'completed', { message: 'B completed' });
    await worker!.close();
    worker = undefined;
    // A's handover arrives only now: A is older than B, whose payload already ran.
    await supersedeOlder(deps(), latestKeyOf('K'), a.id!);
    expect(await client.queue.getJobState(a.id!)).toBe('unknown');
  });

  it('at run start, order stamps decide, not job ids: an older job ends superseded, a newer one whose handover is pending runs', async () => {
    // The latest (stamp 3) is delayed, so it does not run here.
    const latest = await client.queue.add('latest', stampedData(3, 'latest'), { jobId: 'idem-latest', delay: 60_000 });
    await supersedeOlder(deps(), latestKeyOf('K'), latest.id!);
    // Added but not handed over (as if picked by a worker before their enqueuer's handover ran).
    const older = await client.queue.add('latest', stampedData(2, 'older'), { jobId: 'idem-older' });
    const newer = await client.queue.add('latest', stampedData(4, 'newer'), { jobId: 'idem-newer' });
    startWorker();
    await sleepUntil(async () => (await client.getJob(newer.id!))?.state === 'completed', { message: 'newer completed' });
    await sleepUntil(async () => (await client.getJob(older.id!))?.state === 'superseded', { message: 'older superseded' });
    expect((await client.getJob(older.id!))?.result).toEqual({ $outcome: 'superseded', supersededBy: 'idem-latest' });
    expect((await events()).filter((e) => e.event === 'start').map((e) => e.tag)).toEqual(['newer']);
  });
});

describe('pointer lifetime', () => {
  it('the pointer has a TTL (delay + a day, renewed to a day at start) and names no job once its job is done', async () => {
    const delayed = await client.enqueueJob('latest', payload('delayed'), { delay: 60_000 });
    const pttl = await redis.pttl(latestKeyOf('K'));
    expect(pttl).toBeGreaterThan(DAY_MS + 50_000);
    expect(pttl).toBeLessThanOrEqual(DAY_MS + 60_000);
    expect(await pointerJobId('K')).toBe(delayed);

    // A job that runs: its start renews the TTL to a day; cancelled, it releases the pointer.
    const running = await client.enqueueJob('latest', payload('running', 'K', 60_000));
    expect(await client.queue.getJobState(delayed)).toBe('unknown'); // replaced
    startWorker();
    await sleepUntil(async () => (await events()).some((e) => e.tag === 'running' && e.event === 'start'), { message: 'running started' });
    const atStart = await redis.pttl(latestKeyOf('K'));
    expect(atStart).toBeGreaterThan(DAY_MS - 60_000);
    expect(atStart).toBeLessThanOrEqual(DAY_MS);
    expect(await client.cancelJob(running)).toBe('aborting');
    await sleepUntil(async () => (await client.getJob(running))?.state === 'cancelled', { message: 'running cancelled' });
    await sleepUntil(async () => (await pointerJobId('K')) === undefined, { message: 'pointer released' });

    // A job that completes releases it too; what is left is only a stamp, for at most a minute.
    const done = await client.enqueueJob('latest', payload('done'));
    await sleepUntil(async () => (await client.getJob(done))?.state === 'completed', { message: 'done completed' });
    await sleepUntil(async () => (await pointerJobId('K')) === undefined, { message: 'pointer released after completion' });
    const left = await redis.pttl(latestKeyOf('K'));
    expect(left === -2 || (left > 0 && left <= 60_000)).toBe(true);
  }, 30_000);
});

describe('cancelled or vanished jobs', () => {
  const cronData = (tag: string) => ({ type: 'cron', payload: payload(tag), cronJobId: 'row-1' });
  /** A cron run made the way the scheduler makes them: BullMQ's job scheduler, no order stamp. */
  const scheduleCronRun = (tag: string) =>
    client.queue.upsertJobScheduler('cron-row-1', { every: 3_600_000 }, { name: 'latest', data: cronData(tag) });
  const cronOutcome = () =>
    sleepUntil(async () => (await client.queue.getJobs(['completed'])).find((j) => (j.data as { type: string }).type === 'cron'), { message: 'cron run finished', timeoutMs: 15_000 });

  it('cancelling a waiting job clears its pointer; a later cron run and a later plain job with the key run normally', async () => {
    const first = await client.enqueueJob('latest', payload('first'));
    expect(await client.cancelJob(first)).toBe('removed');
    expect(await pointerJobId('K')).toBeUndefined();

    await scheduleCronRun('cron');
    startWorker();
    const cron = await cronOutcome();
    expect((await client.getJob(cron.id!))?.state).toBe('completed');
    expect((await events()).filter((e) => e.event === 'end').map((e) => e.tag)).toEqual(['cron']);

    const plain = await client.enqueueJob('latest', payload('plain'));
    await sleepUntil(async () => (await client.getJob(plain))?.state === 'completed', { message: 'plain job completed' });
  });

  it('a pointer to a job removed behind the client (BullBoard, trimming) does not supersede a cron run', async () => {
    const first = await client.enqueueJob('latest', payload('first'));
    await client.queue.remove(first); // not through cancelJob: the pointer still names it
    expect(await pointerJobId('K')).toBe(first);

    await scheduleCronRun('cron');
    startWorker();
    const cron = await cronOutcome();
    expect((await client.getJob(cron.id!))?.state).toBe('completed');
  });
});

describe('running job', () => {
  it('a newer enqueue from another connection aborts the running job; it ends superseded and the newer one completes (custom ids too)', async () => {
    startWorker();
    const a = await client.enqueueJob('latest', payload('A', 'K', 60_000), { jobId: 'idem-a' });
    await sleepUntil(async () => (await events()).some((e) => e.tag === 'A' && e.event === 'start'), { message: 'A started' });
    const b = await otherClient.enqueueJob('latest', payload('B', 'K', 10), { jobId: 'idem-b' });
    await sleepUntil(async () => (await client.getJob(a))?.state === 'superseded', { message: 'A superseded' });
    expect((await client.getJob(a))?.result).toEqual({ $outcome: 'superseded', supersededBy: b });
    await sleepUntil(async () => (await client.getJob(b))?.state === 'completed', { message: 'B completed' });
    expect((await events()).find((e) => e.tag === 'A' && e.event === 'aborted')?.reason).toBe('superseded');
  });
});
