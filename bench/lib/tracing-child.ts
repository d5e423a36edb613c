/**
 * One measured run of bench/tracing.ts in a process of its own (tracing registers globals, and
 * the "before" side is another source tree): `root` is the source tree (this checkout or the
 * worktree before tracing); with `tracing` the OTEL_* variables of its environment turn it on.
 * Prints one JSON line `{"result": …}` on stdout.
 *
 * worker: fills `jobs` no-op jobs with enqueueJobs (batches of 100, not timed), then times a
 *   worker from construction to the last completion; CPU µs per job of this process (the
 *   worker, its span processing and its exporter).
 * http: the real API (startApiService, APP_ENV=local) on a fresh schema, `POST /api/admin/job`
 *   of echo jobs by autocannon in a forked child for `seconds`; CPU µs per request of this process.
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

interface Spec {
  root: string;
  mode: 'worker' | 'http';
  tracing: boolean;
  redisUrl: string;
  prefix: string;
  jobs: number;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const from = (path: string) => import(pathToFileURL(`${spec.root}/${path}`).href);
const here = (path: string) => import(new URL(path, import.meta.url).href);

// The subpath indexes (config, logger, jobs) exist in both trees; the root index may narrow.
type Shared = typeof import('../../shared/src/config/index.js') & typeof import('../../shared/src/logger/index.js') & typeof import('../../shared/src/jobs/index.js');
const shared = Object.assign({}, ...(await Promise.all(['config', 'logger', 'jobs'].map((m) => from(`shared/src/${m}/index.ts`))))) as Shared;
const { pino } = await import('pino');
const log = shared.createLogger({ level: 'info', destination: pino.destination('/dev/null') }) as Logger;
// startTracing exists only after tracing landed; the "before" side never asks for it.
const tracing = spec.tracing ? await ((await from('shared/src/tracing/index.ts')) as typeof import('../../shared/src/tracing/index.js')).startTracing(`bench-${spec.mode}`, log) : undefined;
if (spec.tracing && !tracing?.enabled) throw new Error('tracing asked for but not on (OTEL_EXPORTER_OTLP_ENDPOINT?)');

async function workerRun(): Promise<{ perSec: number; cpuUsPer: number }> {
  const { untilCompleted } = (await here('./until-completed.ts')) as typeof import('./until-completed.js');
  const handlers = { noop: shared.makeJob<{ n: number }>(async () => undefined) };
  const client = shared.createJobClient({ handlers, redisUrl: spec.redisUrl, prefix: spec.prefix });
  for (let start = 0; start < spec.jobs; start += 100) {
    const batch = Array.from({ length: Math.min(100, spec.jobs - start) }, (_, i) => ({ handler: 'noop' as const, payload: { n: start + i } }));
    await client.enqueueJobs(batch);
  }
  await client.close();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const worker = shared.createWorker({ handlers, redisUrl: spec.redisUrl, prefix: spec.prefix, concurrency: spec.concurrency, logger: log });
  const end = await untilCompleted(worker.worker as unknown as Worker, spec.jobs);
  const { user, system } = process.cpuUsage(cpu);
  await worker.close();
  return { perSec: spec.jobs / ((end - t0) / 1000), cpuUsPer: (user + system) / spec.jobs };
}

async function httpRun(): Promise<{ perSec: number; cpuUsPer: number; p99Ms: number; non2xx: number }> {
  const { startApiService } = await from('services/api/src/api-service.ts');
  const { createTestDatabase } = await from('test/helpers/db.ts');
  const { runLoad } = (await here('./http-load.ts')) as typeof import('./http-load.js');
  const db = await createTestDatabase();
  const config = shared.loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: spec.prefix, LOG_LEVEL: 'info', REDIS_URL: spec.redisUrl, DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  const api = await startApiService(config, log, { db: db.db, port: 0, host: '127.0.0.1' });
  try {
    const result = await runLoad({
      url: `http://127.0.0.1:${api.port}/api/admin/job`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handler: 'echo', payload: { message: 'hi' } }),
      connections: spec.connections,
      seconds: spec.seconds,
      warmupSeconds: spec.warmupSeconds,
    });
    return { perSec: result.status2xx / result.seconds, cpuUsPer: result.serverCpuUs / Math.max(1, result.requests), p99Ms: result.latency.p99, non2xx: result.non2xx };
  } finally {
    await api.close();
    await db.close();
  }
}

const result = spec.mode === 'worker' ? await workerRun() : await httpRun();
await tracing?.shutdown();
process.stdout.write(`${JSON.stringify({ result })}\n`);
process.exit(0);
