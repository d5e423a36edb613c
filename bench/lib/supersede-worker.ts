/**
 * Worker child process of bench/supersede.ts: the library's `createWorker` running the bench
 * handler. Settings from the environment: REDIS_URL, BENCH_PREFIX, BENCH_CONCURRENCY (10),
 * BENCH_LOCK_MS (30000), BENCH_SHUTDOWN_MS (1000). Logs (warn and up) go to stderr; stdout
 * carries only the bench's event lines. Closes the worker and exits on SIGTERM/SIGINT, or when
 * stdin ends (the bench died): then it writes nothing more, since nobody reads its output.
 */
import { createWorker } from '../../shared/src/jobs/worker.js';
import { createLogger } from '../../shared/src/logger/logger.js';
import { benchHandlers, emit, muteEvents } from './supersede-handlers.js';

const env = process.env;
let muted = false;
// Writes to a bench that has gone away must neither throw nor block.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const stderrSink = { write: (line: string) => void (muted || process.stderr.write(line)) };

const worker = createWorker({
  handlers: benchHandlers,
  redisUrl: env.REDIS_URL,
  prefix: env.BENCH_PREFIX!,
  queueName: 'jobs',
  concurrency: Number(env.BENCH_CONCURRENCY ?? 10),
  lockDurationMs: Number(env.BENCH_LOCK_MS ?? 30_000),
  shutdownTimeoutMs: Number(env.BENCH_SHUTDOWN_MS ?? 1_000),
  logger: createLogger({ level: 'warn', destination: stderrSink }),
});
await worker.waitUntilReady();
emit({ ev: 'ready', pid: process.pid, hrNs: process.hrtime.bigint().toString(), nowMs: Date.now() });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 15_000); // a close that hangs must not keep the process
  await worker.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => {
  muted = true;
  muteEvents();
  void stop();
});
process.stdin.resume();
