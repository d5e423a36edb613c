/**
 * Worker child process of bench/supersede.ts: the library's `createWorker` running the bench
 * handler. Settings from the environment: REDIS_URL, BENCH_PREFIX, BENCH_CONCURRENCY (10),
 * BENCH_LOCK_MS (30000), BENCH_SHUTDOWN_MS (1000). Logs (warn and up) go to stderr; stdout
 * carries only the bench's event lines. Exits when stdin closes (the bench died) or on SIGTERM.
 */
import { pino } from 'pino';
import { createLogger, createWorker } from '../../shared/src/index.js';
import { benchHandlers, emit } from './supersede-handlers.js';

const env = process.env;
const worker = createWorker({
  handlers: benchHandlers,
  redisUrl: env.REDIS_URL,
  prefix: env.BENCH_PREFIX!,
  queueName: 'jobs',
  concurrency: Number(env.BENCH_CONCURRENCY ?? 10),
  lockDurationMs: Number(env.BENCH_LOCK_MS ?? 30_000),
  shutdownTimeoutMs: Number(env.BENCH_SHUTDOWN_MS ?? 1_000),
  logger: createLogger({ level: 'warn', destination: pino.destination(2) }),
});
await worker.waitUntilReady();
emit({ ev: 'ready', pid: process.pid, hrNs: process.hrtime.bigint().toString(), nowMs: Date.now() });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 15_000).unref();
  await worker.close();
  clearTimeout(force);
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
