import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers } from '../shared/src/index.js';
import { freePort } from '../scripts/lib/free-port.js';
import { redisAnswers } from '../scripts/lib/private-redis.js';
import { sleepUntil, spawnTs, testPrefix, type Child } from './helpers/index.js';

// `npm start` as a user runs it: a real child process, PGlite in a fresh folder, and no Redis at
// REDIS_URL, so it has to bring up (and later stop) its own redis-server.
describe('local all-in-one run (scripts/local.ts)', () => {
  const children: Child[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGTERM'); // not SIGKILL: it must get the chance to stop its redis-server
      await Promise.race([child.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      child.kill('SIGKILL');
    }
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'jobs-local-test-'));
    dirs.push(dir);
    return dir;
  }

  it('starts a private Redis, runs a job end to end, and stops everything on SIGTERM', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const prefix = testPrefix('local');
    const child = spawnTs('scripts/local.ts', {
      APP_ENV: 'local',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`, // nothing listens there
      PORT: String(port),
      DATA_DIR: await tempDir(),
      DATABASE_URL: '', // PGlite even where the suite runs with a Postgres URL
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    });
    children.push(child);
    const exitedEarly = child.exited.then((code) => new Error(`exited early (${code}):\n${child.output()}`));

    await sleepUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (res === undefined && child.proc.exitCode !== null) throw await exitedEarly;
        return res?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: '/healthz to answer 200' },
    );
    const redisUrl = await sleepUntil(() => /Redis:\s+(redis:\/\/\S+) \(private/.exec(child.output())?.[1], {
      timeoutMs: 5_000,
      message: 'the banner naming the private Redis',
    });
    expect(child.output()).toContain(`http://localhost:${port}/bullBoard`);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    const client = createJobClient({ handlers: jobHandlers, redisUrl, prefix });
    try {
      const id = await client.enqueueJob('echo', { message: 'hello from the test' });
      const job = await sleepUntil(async () => {
        const info = await client.getJob(id);
        return info?.state === 'completed' ? info : undefined;
      }, { timeoutMs: 20_000, message: `echo job ${id} to complete` });
      expect(job.result).toEqual({ message: 'hello from the test' });
    } finally {
      await client.close();
    }

    // One /metrics on the api's port serves the worker's and the scheduler's metrics too, each
    // family once, and Node's process metrics once (the api's).
    const metrics = await sleepUntil(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^jobs_processed_total\{(?=[^}]*handler="echo")(?=[^}]*outcome="completed")(?=[^}]*service="worker")[^}]*\} 1$/m.test(text) && text;
    }, { timeoutMs: 10_000, message: "the worker's jobs_processed_total on the api's /metrics" });
    expect(metrics).toMatch(/^scheduler_is_leader\{service="scheduler"\} [01]$/m);
    expect(metrics).toMatch(/^http_server_request_duration_seconds_count\{(?=[^}]*route="\/readyz")(?=[^}]*service="api")[^}]*\} 1$/m);
    const families = [...metrics.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families.length).toBe(new Set(families).size);
    expect([...metrics.matchAll(/^process_start_time_seconds\{([^}]*)\}/gm)].map((m) => m[1])).toEqual(['service="api"']);

    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(await redisAnswers(redisUrl, 500)).toBe(false);
  });

  it('exits 1 with one line on how to get Redis when there is none and redis-server is not on the PATH', { timeout: 60_000 }, async () => {
    const child = spawnTs('scripts/local.ts', {
      APP_ENV: 'local',
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      PORT: String(await freePort()),
      DATA_DIR: await tempDir(),
      PATH: await tempDir(), // an empty folder: no redis-server to find
      LOG_LEVEL: 'warn',
    });
    children.push(child);
    expect(await child.exited).toBe(1);
    const lines = child.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/redis-server/);
    expect(lines[0]).toMatch(/install Redis.*REDIS_URL/);
  });
});
