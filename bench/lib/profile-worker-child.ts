/**
 * Child process of bench/profile.ts (forked with `--cpu-prof`): drains a pre-filled queue with
 * either the library's worker (`createWorker` + a no-op `makeJob`, logger at info → /dev/null,
 * a metrics registry, as the worker service sets it up) or a raw BullMQ Worker with a no-op
 * processor, then reports over IPC the monotonic-clock window it worked in (to cut the profile
 * to it) and its CPU time, closes and exits. It imports `@jobs/shared` by package name, so
 * without `--conditions=development` it runs the compiled dist/, as the worker service does.
 * Env: PROFILE_REDIS_URL, PROFILE_PREFIX, PROFILE_SIDE (lib | raw), PROFILE_CONCURRENCY, PROFILE_JOBS.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createWorker, makeJob } from '@jobs/shared';
import { createLogger } from '@jobs/shared/logger';
import { createMetricsRegistry } from '@jobs/shared/metrics';

export interface WorkerChildReport {
  fromNs: string;
  toNs: string;
  cpuUs: number;
  jobs: number;
}

const env = process.env;
const redisUrl = env.PROFILE_REDIS_URL!;
const prefix = env.PROFILE_PREFIX!;
const side = env.PROFILE_SIDE === 'raw' ? 'raw' : 'lib';
const concurrency = Number(env.PROFILE_CONCURRENCY ?? 10);
const jobs = Number(env.PROFILE_JOBS ?? 20_000);
const QUEUE = 'jobs';
// The library's defaults, given to the raw side too (as bench/lib/sides.ts does).
const LOCK_MS = 300_000;
const STALLED_MS = 30_000;

const sink = pino.destination('/dev/null');
const cpu0 = process.cpuUsage();
const from = process.hrtime.bigint();
let close: () => Promise<void>;
let worker: Worker;
if (side === 'raw') {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  worker = new Worker(QUEUE, async () => undefined, { connection, prefix, concurrency, lockDuration: LOCK_MS, stalledInterval: STALLED_MS });
  close = async () => {
    await worker.close();
    await connection.quit();
  };
} else {
  const jobWorker = createWorker({
    handlers: { noop: makeJob<{ n: number }>(async () => undefined) },
    redisUrl,
    prefix,
    queueName: QUEUE,
    concurrency,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: STALLED_MS,
    logger: createLogger({ level: 'info', destination: sink }),
    metrics: createMetricsRegistry('worker'),
  });
  worker = jobWorker.worker;
  close = () => jobWorker.close();
}
worker.on('failed', (job, err) => {
  process.stderr.write(`job ${job?.id} failed: ${err.message}\n`);
  process.exit(1);
});
let done = 0;
await new Promise<void>((resolve) => {
  worker.on('completed', () => {
    if (++done === jobs) resolve();
  });
});
const to = process.hrtime.bigint();
const { user, system } = process.cpuUsage(cpu0);
const report: WorkerChildReport = { fromNs: from.toString(), toNs: to.toString(), cpuUs: user + system, jobs };
await new Promise<void>((resolve) => process.send!(report, () => resolve()));
await close();
sink.end();
process.exit(0);
