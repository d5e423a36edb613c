/**
 * The two things compared by bench/worker-overhead.ts: a raw BullMQ Worker with a no-op
 * processor, and the library's `createWorker` with a no-op `makeJob` handler.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createWorker, makeJob } from '../../shared/src/index.js';
import { makeEnvelope, toBullJobOptions } from '../../shared/src/jobs/index.js';
import { createLogger, type Logger } from '../../shared/src/logger/index.js';

export const QUEUE_NAME = 'jobs';
export const HANDLER = 'noop';

/** `lib@info` is the headline (what a production user runs); `lib@warn` shows the cost of per-job logging. */
export const SIDES = ['raw', 'lib@info', 'lib@warn'] as const;
export type Side = (typeof SIDES)[number];

export const handlers = { [HANDLER]: makeJob<{ n: number }>(async () => undefined) };

/** Exactly the options `enqueueJob(HANDLER, payload)` writes (the library's retention and retry defaults). */
export const jobOptions = toBullJobOptions(HANDLER, handlers[HANDLER]!, {});

/** The library's worker defaults, given to the raw worker too so only the wrapper differs. */
const LOCK_DURATION_MS = 300_000;
const STALLED_INTERVAL_MS = 30_000;

const logSink = pino.destination('/dev/null');
const loggers: Record<Exclude<Side, 'raw'>, Logger> = {
  'lib@info': createLogger({ level: 'info', destination: logSink }),
  'lib@warn': createLogger({ level: 'warn', destination: logSink }),
};

/** Flushes and closes the /dev/null log stream. */
export function closeLogSink(): void {
  logSink.end();
}

export interface BenchWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

export interface WorkerSettings {
  redisUrl: string;
  prefix: string;
  concurrency: number;
}

const open = new Set<BenchWorker>();
let stopping = false;

/** Throws once {@link stopEverything} was called, to end a run between steps. */
export function checkNotStopped(): void {
  if (stopping) throw new Error('bench interrupted');
}

/**
 * After an interrupt: no new worker or fill starts, and the running workers are closed, so
 * nothing writes keys after the cleanup.
 */
export async function stopEverything(): Promise<void> {
  stopping = true;
  await Promise.all([...open].map((w) => w.close()));
}

/** Starts the side's worker; it begins taking jobs at once. */
export function startWorker(side: Side, s: WorkerSettings): BenchWorker {
  checkNotStopped();
  const started = startSide(side, s);
  let closing: Promise<void> | undefined;
  const tracked: BenchWorker = {
    worker: started.worker,
    close: () => {
      open.delete(tracked);
      return (closing ??= started.close());
    },
  };
  open.add(tracked);
  return tracked;
}

function startSide(side: Side, s: WorkerSettings): BenchWorker {
  if (side === 'raw') {
    const connection = new Redis(s.redisUrl, { maxRetriesPerRequest: null });
    const worker = new Worker(QUEUE_NAME, async () => undefined, {
      connection,
      prefix: s.prefix,
      concurrency: s.concurrency,
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
    });
    worker.on('error', (err) => console.error(`raw worker error: ${err.message}`));
    return {
      worker,
      close: async () => {
        await worker.close();
        await connection.quit();
      },
    };
  }
  const jobWorker = createWorker({
    handlers,
    redisUrl: s.redisUrl,
    prefix: s.prefix,
    queueName: QUEUE_NAME,
    concurrency: s.concurrency,
    lockDurationMs: LOCK_DURATION_MS,
    stalledIntervalMs: STALLED_INTERVAL_MS,
    logger: loggers[side],
  });
  return { worker: jobWorker.worker, close: () => jobWorker.close() };
}

/** What `enqueueJob(HANDLER, { n })` would add. */
export function jobFor(n: number) {
  return { name: HANDLER, data: makeEnvelope({ n }), opts: jobOptions };
}

/** Pre-fills the queue with `count` jobs using addBulk in chunks (same for every side). */
export async function fillQueue(queue: Queue, count: number, chunk = 1_000): Promise<void> {
  for (let start = 0; start < count; start += chunk) {
    checkNotStopped();
    const batch = [];
    for (let n = start; n < Math.min(count, start + chunk); n++) batch.push(jobFor(n));
    await queue.addBulk(batch);
  }
}
