import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../shared/src/index.js';
import { ConfigError, hasHashTag, loadConfig } from '../../shared/src/config/index.js';
import { closeRedis, createRedis, parseRedisUrl, queuePrefix, redisKeys } from '../../shared/src/redis/index.js';
import { publishCronChanged } from '../../shared/src/cron/index.js';
import { startCronScheduler } from '../../shared/src/scheduler/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { allTestHandlers } from '../fixtures/test-handlers.js';
import { queueHandlers } from '../fixtures/queue-handlers.js';
import { limitHandlers, type Span } from '../fixtures/limit-handlers.js';
import { captureLogger, sleepUntil } from '../helpers/index.js';

const run = promisify(execFile);
const PREFIX = '{jobs}';

describe('REDIS_URL for Redis Cluster (SPEC §2)', () => {
  it('parses seed nodes, credentials and TLS from redis+cluster:// URLs', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('redis+cluster://redis-0:7000,redis-1,[::1]:7002/')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'redis-0', port: 7000 },
        { host: 'redis-1', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
      username: undefined,
      password: undefined,
    });
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@cache.example:6380')).toMatchObject({ tls: true, username: 'app', password: 'p@ss' });
    for (const bad of ['redis+cluster://', 'redis+cluster://a:99999', 'redis+cluster://a:1/2', 'redis+cluster://a:1?tls=1', 'http://x', 'redis+sentinel://a:1']) {
      expect(() => parseRedisUrl(bad), bad).toThrow();
    }
  });

  it('config accepts a cluster URL with a hash-tagged QUEUE_PREFIX (one slot) or one without braces (a slot per queue)', () => {
    expect(loadConfig({ APP_ENV: 'test', REDIS_URL: 'redis+cluster://a:7000,b:7001', QUEUE_PREFIX: '{jobs}' }).redisUrl).toBe('redis+cluster://a:7000,b:7001');
    expect(loadConfig({ APP_ENV: 'test', REDIS_URL: 'redis+cluster://a:7000' }).queuePrefix).toBe('bull');
    expect(() => loadConfig({ APP_ENV: 'test', REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: '{}jobs' })).toThrow(ConfigError);
    expect(() => loadConfig({ APP_ENV: 'test', REDIS_URL: 'redis+cluster://a:7000', QUEUE_PREFIX: '{}jobs' })).toThrow(/QUEUE_PREFIX has braces but no hash tag/);
    expect([queuePrefix('{jobs}', 'reports', true), queuePrefix('bull', 'reports', true), queuePrefix('bull', 'reports', false)]).toEqual(['{jobs}', 'bull:{reports}', 'bull']);
    expect(() => loadConfig({ APP_ENV: 'test', REDIS_URL: 'redis+cluster://a:x' })).toThrow(/REDIS_URL has a bad cluster node/);
    expect([hasHashTag('{jobs}'), hasHashTag('app{jobs}'), hasHashTag('{}jobs'), hasHashTag('bull')]).toEqual([true, true, false, false]);
  });
});

/** Three masters on loopback ports, no replicas, nothing on disk. */
interface TestCluster {
  ports: number[];
  /** The master that serves the hash slot of `{jobs}`. */
  ownerPort: number;
  url: string;
  stop(): Promise<void>;
}

async function startCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-cluster-'));
  const procs: ChildProcess[] = [];
  const clients: Redis[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      procs.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((resolve) => (p.once('exit', resolve), p.kill('SIGKILL'))) : undefined)),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    const taken = new Set<number>();
    // Six distinct free ports: a port just released may be handed out again.
    const nextPort = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) return taken.add(p), p;
      }
    };
    for (let i = 0; i < 3; i++) {
      // The bus port is named explicitly: port + 10000 may be taken, or past 65535.
      const [port, busPort] = [await nextPort(), await nextPort()];
      ports.push(port);
      // prettier-ignore
      const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'];
      const proc = spawn('redis-server', args, { stdio: 'ignore' });
      procs.push(proc);
    }
    for (const port of ports) {
      // ioredis retries by itself and queues the PING until the server listens.
      const client = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50 });
      client.on('error', () => {}); // refused until the server listens
      clients.push(client);
      await sleepUntil(() => client.ping().then(() => true, () => false), { timeoutMs: 10_000, message: `redis-server on ${port}` });
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    await sleepUntil(async () => (await Promise.all(clients.map((c) => c.cluster('INFO')))).every((info) => String(info).includes('cluster_state:ok')), {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'cluster_state:ok on every node',
    });
    // Which master serves the {jobs} slot: the worker is seeded with another one, so it has to discover it.
    const slots = await clients[0]!.cluster('SLOTS');
    const slot = Number(await clients[0]!.cluster('KEYSLOT', PREFIX));
    const ownerPort = slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
    return { ports, ownerPort, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

describe('worker, job client and scheduler on a real 3-master Redis Cluster, prefix {jobs}', () => {
  let cluster: TestCluster;
  let worker: JobWorker;
  let client: JobClient<typeof allTestHandlers>;
  let redis: ReturnType<typeof createRedis>;
  const ns = `${PREFIX}:test`;

  beforeAll(async () => {
    cluster = await startCluster();
    // One seed that does not serve {jobs}: the client must discover the cluster to get anywhere.
    const url = `redis+cluster://127.0.0.1:${cluster.ports.find((p) => p !== cluster.ownerPort)}`;
    worker = createWorker({ handlers: allTestHandlers, redisUrl: url, prefix: PREFIX, concurrency: 5, logger: captureLogger('warn').log, shutdownTimeoutMs: 2_000 });
    client = createJobClient({ handlers: allTestHandlers, redisUrl: cluster.url, prefix: PREFIX });
    redis = createRedis(cluster.url, 'worker');
    await worker.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await worker?.close();
    if (redis) await closeRedis(redis);
    await cluster?.stop();
  });

  const events = async (list: string) => (await redis.lrange(list, 0, -1)).map((raw) => JSON.parse(raw) as { event?: string; tag?: string; jobId?: string });

  it('runs enqueued jobs to completion', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => client.enqueueJob('record', { list: `${ns}:records`, tag: `t${i}` })));
    await sleepUntil(async () => (await Promise.all(ids.map((id) => client.getJob(id)))).every((job) => job?.state === 'completed'), {
      timeoutMs: 15_000,
      message: '20 jobs completed',
    });
    expect(await redis.llen(`${ns}:records`)).toBe(20);
    expect((await client.getJob(ids[0]!))?.result).toEqual({ tag: 't0' });
  });

  it('cancels a running job across the cluster (abort channel over pub/sub)', async () => {
    const list = `${ns}:slow`;
    const id = await client.enqueueJob('slow', { list, ms: 30_000 });
    await sleepUntil(async () => (await events(list)).some((e) => e.event === 'start'), { message: 'slow job started' });
    expect(await client.cancelJob(id)).toBe('aborting');
    await sleepUntil(async () => (await events(list)).some((e) => e.event === 'aborted'), { message: 'slow job aborted' });
    await sleepUntil(async () => (await client.getJob(id))?.state === 'cancelled', { message: 'job cancelled' });
    expect(await client.getJob(id)).toMatchObject({ state: 'cancelled', failedReason: 'job cancelled' });
  });

  it('supersedes a running job (our own Lua scripts and keys under the {jobs} hash tag)', async () => {
    await client.enqueueJob('latest', { ns: `${ns}:l`, key: 'k', tag: 'old', ms: 30_000 });
    await sleepUntil(async () => (await events(`${ns}:l:events`)).some((e) => e.event === 'start' && e.tag === 'old'), { message: 'old started' });
    await client.enqueueJob('latest', { ns: `${ns}:l`, key: 'k', tag: 'new', ms: 0 });
    await sleepUntil(async () => (await events(`${ns}:l:events`)).some((e) => e.event === 'end' && e.tag === 'new'), { message: 'new ended' });
    expect((await events(`${ns}:l:events`)).filter((e) => e.event === 'aborted').map((e) => e.tag)).toEqual(['old']);
  });

  it('the scheduler leads, syncs a cron row into a job scheduler and applies a change notice', async () => {
    const t = await createTestDatabase();
    const scheduler = startCronScheduler({ db: t.db, redisUrl: cluster.url, prefix: PREFIX, reconcileMs: 60_000, logger: captureLogger('warn').log });
    try {
      const row = await t.db
        .insertInto('cron_job')
        .values({ job_id: 'nightly', name: 'Nightly', pattern: '0 2 * * *', handler: 'echo', payload: { message: 'hi' } })
        .returningAll()
        .executeTakeFirstOrThrow();
      await scheduler.waitUntilReady();
      await sleepUntil(() => scheduler.isLeader, { message: 'leader' });
      await sleepUntil(async () => (await client.queue.getJobSchedulers()).some((x) => x.key === 'nightly'), { message: 'row synced' });
      await t.db.updateTable('cron_job').set({ pattern: '30 2 * * *' }).where('id', '=', row.id).execute();
      await publishCronChanged(redis, redisKeys(PREFIX, 'jobs'), { cronJobId: row.id, op: 'update' });
      await sleepUntil(async () => (await client.queue.getJobSchedulers()).find((x) => x.key === 'nightly')?.pattern === '30 2 * * *', {
        message: 'change applied through pub/sub',
      });
    } finally {
      await scheduler.close();
      await t.close();
    }
  });

  it('keeps every key of the queue in the one hash slot of {jobs}', async () => {
    const sizes = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis({ port, host: '127.0.0.1' });
        try {
          return await node.dbsize();
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(sizes.filter((n) => n > 0)).toHaveLength(1);
    expect(sizes[cluster.ports.indexOf(cluster.ownerPort)]).toBeGreaterThan(0);
    expect((redis as unknown as { isCluster: boolean }).isCluster).toBe(true);
    const keys = redisKeys(PREFIX, 'jobs');
    const slot = await redis.cluster('KEYSLOT', PREFIX);
    for (const key of [keys.abortChannel, keys.schedulerLeader, keys.singletonLock('h', 'k'), `${PREFIX}:jobs:wait`]) {
      expect(await redis.cluster('KEYSLOT', key)).toBe(slot);
    }
  });
  // Runs last: it puts keys on other masters than the {jobs} one, which the test above counts.
  it('with a QUEUE_PREFIX without hash tag each queue hashes to a slot of its own (SPEC §12): a job of each runs, cancel and supersede work per queue', async () => {
    const prefix = 'perq';
    const worker2 = createWorker({ handlers: queueHandlers, redisUrl: cluster.url, prefix, concurrency: 3, logger: captureLogger('warn').log, shutdownTimeoutMs: 2_000 });
    const client2 = createJobClient({ handlers: queueHandlers, redisUrl: cluster.url, prefix });
    try {
      await worker2.waitUntilReady();
      // `jobs` hashes to slot 9631, `reports` to 5152: two slots, served by two different masters here.
      const [jobsSlot, reportsSlot] = await Promise.all([redis.cluster('KEYSLOT', 'perq:{jobs}:jobs:wait'), redis.cluster('KEYSLOT', 'perq:{reports}:reports:wait')]);
      expect(jobsSlot).not.toBe(reportsSlot);
      const slots = await redis.cluster('SLOTS');
      const owner = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
      expect(owner(Number(jobsSlot))).not.toBe(owner(Number(reportsSlot)));

      const list = '{perq-test}:notes';
      const ids = [await client2.enqueueJob('onDefault', { list, tag: 'a', ms: 0 }), await client2.enqueueJob('onReports', { list, tag: 'b', ms: 0 })];
      expect(ids[1]).toMatch(/^reports~/);
      await sleepUntil(async () => (await Promise.all(ids.map((id) => client2.getJob(id)))).every((job) => job?.state === 'completed'), { timeoutMs: 15_000, message: 'a job of each queue completed' });

      const slow = await client2.enqueueJob('onReports', { list, tag: 'slow', ms: 30_000 });
      await sleepUntil(async () => (await redis.lrange(list, 0, -1)).some((raw) => raw.includes('"slow"')), { message: 'slow started' });
      expect(await client2.cancelJob(slow)).toBe('aborting');
      await sleepUntil(async () => (await client2.getJob(slow))?.state === 'cancelled', { message: 'cancelled on reports' });

      const older = await client2.enqueueJob('latestReport', { list, tag: 'k', ms: 30_000 });
      await sleepUntil(async () => (await client2.getJob(older))?.state === 'active', { message: 'older running' });
      const newer = await client2.enqueueJob('latestReport', { list, tag: 'k', ms: 0 });
      await sleepUntil(async () => (await client2.getJob(newer))?.state === 'completed', { message: 'newer completed' });
      await sleepUntil(async () => (await client2.getJob(older))?.state === 'superseded', { message: 'older superseded' });

      // Every key of a queue sits in its queue's slot: BullMQ's and ours.
      for (const [queue, slot] of [['jobs', jobsSlot], ['reports', reportsSlot]] as const) {
        const keys = redisKeys(queuePrefix(prefix, queue, true), queue);
        for (const key of [keys.abortChannel, keys.abortFlag('1'), keys.supersedeSeq, keys.supersedeLatest('latestReport', 'report:k')]) expect(await redis.cluster('KEYSLOT', key)).toBe(slot);
      }
    } finally {
      await client2.close();
      await worker2.close();
    }
  }, 60_000);

  it('a per-key concurrency limit holds on the cluster (SPEC §12): its gate and leases live in the queue slot', async () => {
    const prefix = 'lim';
    // Two workers, as two processes would be: the limit is held in Redis, not in either of them.
    const workers = [1, 2].map(() => createWorker({ handlers: limitHandlers, redisUrl: cluster.url, prefix, concurrency: 4, logger: captureLogger('warn').log, shutdownTimeoutMs: 2_000 }));
    const limited = createJobClient({ handlers: limitHandlers, redisUrl: cluster.url, prefix });
    try {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      const ns = '{lim-test}';
      const ids = await limited.enqueueJobs(['a', 'b'].flatMap((key) => Array.from({ length: 6 }, () => ({ handler: 'limitedPerKey' as const, payload: { ns, key, ms: 150 }, options: { attempts: 1 } }))));
      await sleepUntil(async () => (await redis.llen(`${ns}:spans`)) === 12, { timeoutMs: 20_000, message: '12 runs' });
      const spans = (await redis.lrange(`${ns}:spans`, 0, -1)).map((raw) => JSON.parse(raw) as Span);
      const overlap = (list: Span[]) => {
        const edges = list.flatMap((s) => [[s.start, 1] as const, [s.end, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let now = 0;
        return Math.max(...edges.map(([, d]) => (now += d)));
      };
      expect(overlap(spans.filter((s) => s.key === 'a'))).toBe(2);
      expect(overlap(spans.filter((s) => s.key === 'b'))).toBe(2);
      expect((await Promise.all(ids.map((id) => limited.getJob(id)))).map((j) => [j?.state, j?.attemptsMade])).toEqual(ids.map(() => ['completed', 1]));
      const slot = await redis.cluster('KEYSLOT', 'lim:{jobs}:jobs:wait');
      const keys = redisKeys(queuePrefix(prefix, 'jobs', true), 'jobs');
      for (const key of [keys.limitState('limitedPerKey', 'a'), keys.limitDue]) expect(await redis.cluster('KEYSLOT', key)).toBe(slot);
    } finally {
      await limited.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 60_000);
});
