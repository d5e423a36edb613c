import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers } from '../../../shared/src/index.js';
import { cleanupPrefix, sleepUntil, spawnTs, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';

const root = new URL('../../..', import.meta.url).pathname;
const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await cleanupPrefix(p);
});

describe('worker entry point', () => {
  it('starts nothing under APP_ENV=test', async () => {
    // Redis points at a closed port: a worker that tried to start would hang reconnecting.
    const child = spawnTs('services/worker/src/main.ts', { APP_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'info' });
    expect(await child.exited).toBe(0);
    expect(child.output()).toContain('APP_ENV=test: worker not started');
  });

  // `npm run start:worker` builds and then runs exactly this file; npm itself would swallow the
  // exit code on SIGTERM, which is why images run node directly.
  it('compiled (dist/main.js) processes jobs enqueued by enqueueJob in another process, and SIGTERM exits 0', async () => {
    execFileSync('npx', ['tsc', '-b'], { cwd: root, stdio: 'inherit' });
    const prefix = testPrefix('svc');
    prefixes.push(prefix);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const env = {
      ...process.env,
      APP_ENV: 'staging',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
    };
    const worker = spawn(process.execPath, ['services/worker/dist/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(worker, 'exit');
    try {
      const started = await sleepUntil(() => out.split('\n').find((l) => l.includes('"worker started"')), { timeoutMs: 20_000, message: 'worker started' });
      const { healthPort } = JSON.parse(started) as { healthPort: number };
      expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

      const producer = spawnTs('test/fixtures/enqueue-echo.ts', { APP_ENV: 'test', REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
      expect(await producer.exited).toBe(0);
      const id = /enqueued (\S+)/.exec(producer.output())![1]!;

      const client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
      try {
        const info = await sleepUntil(async () => {
          const job = await client.getJob(id);
          return job?.state === 'completed' && job;
        });
        expect(info.result).toEqual({ message: 'hello' });
        const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        expect(metrics).toMatch(/jobs_processed_total\{queue="jobs",handler="echo",outcome="completed",service="worker"\} 1/);
        expect(metrics).toMatch(/queue_jobs\{queue="jobs",state="completed",service="worker"\} 1/);
      } finally {
        await client.close();
      }
      worker.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(out).toContain('shut down cleanly');
    } finally {
      worker.kill('SIGKILL');
    }
  }, 90_000);
});
