/**
 * Flow control (SPEC §12, jobs/limits): what concurrency and rate limits cost.
 *  (a) throughput of a handler whose `concurrency` and `rateLimit` are never reached, vs the same
 *      handler without them, in the same run (target ≥ 90%), with CPU µs per job;
 *  (b) no busy loop: Redis commands per completed job while 10,000 jobs wait on a per-key limit,
 *      vs while 100 wait (INFO commandstats; target within 1.5×);
 *  (c) fairness: start delay (p50/p99/max) of another key's 20 jobs enqueued behind a 2,000-job
 *      flood of one key, with spare worker slots (target p99 ≤ about a second: 1,000 ms).
 *
 *   npm run bench:flow-control
 *   BENCH_JOBS=2000 BENCH_REPS=2 npm run bench:flow-control   # quick check
 *
 * Runs on a redis-server of its own (started here on a free port, `redis-server` on PATH), so
 * INFO commandstats counts only this bench. Env: BENCH_JOBS (10000), BENCH_REPS (3),
 * BENCH_CONCURRENCY (10). Exits 0 whatever the targets say.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createJobClient, createWorker, type JobWorker } from '../shared/src/index.js';
import { redisKeys } from '../shared/src/redis/index.js';
import { limitHandlers, type Span } from '../test/fixtures/limit-handlers.js';
import { envInt } from './lib/bench-env.js';
import { fmtInt, fmtPct, median, percentile } from './lib/stats.js';

const JOBS = envInt('BENCH_JOBS', 10_000);
const REPS = envInt('BENCH_REPS', 3);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 10);
const PORT = 30_000 + Math.floor(Math.random() * 20_000);
const URL_ = `redis://127.0.0.1:${PORT}`;
const PREFIX = 'benchfc';
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const log = pino({ level: 'warn' }, pino.destination('/dev/null'));

const server = spawn('redis-server', ['--port', String(PORT), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
const redis = new Redis(URL_, { lazyConnect: true, maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);
for (let i = 0; ; i++) {
  if (await redis.ping().then(() => true, () => false)) break;
  if (i > 100) throw new Error(`redis-server did not start on ${PORT}`);
  await new Promise((r) => setTimeout(r, 100));
}
const client = createJobClient({ handlers: limitHandlers, redisUrl: URL_, prefix: PREFIX });
const keys = redisKeys(PREFIX, 'jobs');

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('bench step timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function enqueueMany(n: number, handler: keyof typeof limitHandlers, payload: (i: number) => { ns: string; key: string; ms: number }): Promise<void> {
  for (let from = 0; from < n; from += 1_000) {
    await client.enqueueJobs(Array.from({ length: Math.min(1_000, n - from) }, (_, i) => ({ handler, payload: payload(from + i), options: { attempts: 1 } })));
  }
}

const startWorker = async (concurrency: number): Promise<JobWorker> => {
  const worker = createWorker({ handlers: limitHandlers, redisUrl: URL_, prefix: PREFIX, concurrency, logger: log });
  completed = 0;
  worker.worker.on('completed', () => void completed++);
  await worker.waitUntilReady();
  return worker;
};
// Completions counted from the in-process worker's events: no polling commands in the figures.
let completed = 0;
const completedCount = async () => completed;
const totalCalls = async () => [...(await redis.info('commandstats')).matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

// (a) ------------------------------------------------------------------------------------------
async function throughputRun(handler: 'unlimited' | 'neverLimited', ms = 0, jobs = JOBS): Promise<{ jobsPerSec: number; cpuUsPerJob: number }> {
  await redis.flushall();
  await enqueueMany(jobs, handler, (i) => ({ ns: 'a', key: `k${i % 10}`, ms }));
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const worker = await startWorker(CONCURRENCY);
  await until(async () => (await completedCount()) >= jobs);
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  await worker.close();
  return { jobsPerSec: jobs / seconds, cpuUsPerJob: (used.user + used.system) / jobs };
}

// (b) ------------------------------------------------------------------------------------------
const MEASURED = 80;
async function commandsPerJob(waiting: number): Promise<number> {
  await redis.flushall();
  // Limit 2 per key: all but 2 park. Once every job has been picked (parked or running: the wait
  // list is empty but for woken ones), count commands over the next MEASURED completions.
  await enqueueMany(waiting + 2, 'limitedPerKey', () => ({ ns: 'b', key: 'w', ms: 20 }));
  const worker = await startWorker(CONCURRENCY);
  await until(async () => (await redis.llen(`${PREFIX}:jobs:wait`)) <= 2);
  const done0 = await completedCount();
  const calls0 = await totalCalls();
  await until(async () => (await completedCount()) >= done0 + MEASURED);
  const calls = (await totalCalls()) - calls0;
  const done = (await completedCount()) - done0;
  await worker.close();
  return calls / done;
}

// (c) ------------------------------------------------------------------------------------------
async function fairness(): Promise<number[]> {
  await redis.flushall();
  const worker = await startWorker(20);
  await enqueueMany(2_000, 'limitedPerKey', () => ({ ns: 'c', key: 'flood', ms: 5_000 }));
  const enqueuedAt = Date.now();
  await enqueueMany(20, 'limitedPerKey', () => ({ ns: 'c', key: 'other', ms: 5 }));
  let other: Span[] = [];
  await until(async () => {
    other = (await redis.lrange('c:spans', 0, -1)).map((s) => JSON.parse(s) as Span).filter((s) => s.key === 'other');
    return other.length === 20;
  });
  await worker.close();
  return other.map((s) => s.start - enqueuedAt).sort((a, b) => a - b);
}

try {
  console.log('# Flow control: concurrency / rate limits (jobs/limits)');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`redis-server of its own on port ${PORT}; worker in this process, concurrency ${CONCURRENCY}\n`);

  const runs = { unlimited: [] as { jobsPerSec: number; cpuUsPerJob: number }[], neverLimited: [] as { jobsPerSec: number; cpuUsPerJob: number }[] };
  await throughputRun('unlimited'); // warm-up, not reported
  for (let rep = 0; rep < REPS; rep++) {
    for (const side of rep % 2 === 0 ? (['unlimited', 'neverLimited'] as const) : (['neverLimited', 'unlimited'] as const)) {
      const r = await throughputRun(side);
      runs[side].push(r);
      progress(`throughput rep ${rep + 1}/${REPS} ${side}: ${fmtInt(r.jobsPerSec)} jobs/s, ${r.cpuUsPerJob.toFixed(1)} µs CPU/job`);
    }
  }
  const best = (side: keyof typeof runs) => Math.max(...runs[side].map((r) => r.jobsPerSec));
  const cpu = (side: keyof typeof runs) => median(runs[side].map((r) => r.cpuUsPerJob));
  const ratio = best('neverLimited') / best('unlimited');
  console.log(`## (a) Throughput: ${fmtInt(JOBS)} no-op jobs per run, best of ${REPS}`);
  console.log(`   without limits        ${fmtInt(best('unlimited'))} jobs/s   ${cpu('unlimited').toFixed(1)} µs CPU/job (median)`);
  console.log(`   limits never reached  ${fmtInt(best('neverLimited'))} jobs/s   ${cpu('neverLimited').toFixed(1)} µs CPU/job (median)   ratio ${fmtPct(ratio)}`);
  console.log('   (limits: concurrency { limit: 10000, key } and rateLimit { max: 100000, durationMs: 1000, key }, 10 keys)');
  // A handler that does some I/O (5 ms), as most do: the gate's round trip is then a small share.
  const ioJobs = Math.min(JOBS, 3_000);
  const io = { unlimited: [] as number[], neverLimited: [] as number[] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const side of rep % 2 === 0 ? (['unlimited', 'neverLimited'] as const) : (['neverLimited', 'unlimited'] as const)) io[side].push((await throughputRun(side, 5, ioJobs)).jobsPerSec);
  }
  const ioRatio = Math.max(...io.neverLimited) / Math.max(...io.unlimited);
  console.log(`   5 ms handler (${fmtInt(ioJobs)} jobs): without ${fmtInt(Math.max(...io.unlimited))} jobs/s, with limits ${fmtInt(Math.max(...io.neverLimited))} jobs/s, ratio ${fmtPct(ioRatio)}\n`);

  const small = await commandsPerJob(100);
  progress(`commands/job with 100 waiting: ${small.toFixed(1)}`);
  const large = await commandsPerJob(10_000);
  progress(`commands/job with 10,000 waiting: ${large.toFixed(1)}`);
  console.log(`## (b) Redis commands per completed job (INFO commandstats, Lua inner calls included), ${MEASURED} completions measured`);
  console.log(`   100 waiting      ${small.toFixed(1)}`);
  console.log(`   10,000 waiting   ${large.toFixed(1)}   ratio ${(large / small).toFixed(2)}x\n`);

  const delays = await fairness();
  const p99 = percentile(delays, 99);
  console.log("## (c) Fairness: another key's 20 jobs behind a 2,000-job flood of one key (limit 2 per key, 20 slots)");
  console.log(`   start delay p50 ${percentile(delays, 50)} ms   p99 ${p99} ms   max ${delays.at(-1)} ms\n`);

  console.log('## Targets');
  console.log(`  ${verdict(ratio >= 0.9)}  throughput with limits never reached: ${fmtPct(ratio)} of the same handler without limits (target ≥ 90%)`);
  console.log(`  ${verdict(large / small <= 1.5)}  commands per completed job, 10,000 waiting vs 100: ${(large / small).toFixed(2)}x (target ≤ 1.5x)`);
  console.log(`  ${verdict(p99 <= 1_000)}  fairness: other key's p99 start delay ${p99} ms behind a 2,000-job flood (target ≤ 1,000 ms)`);
  console.log('## Informational (not a target of the issue)');
  console.log(`  ${verdict(ioRatio >= 0.9)}  throughput of a 5 ms handler with limits never reached: ${fmtPct(ioRatio)} of it without (target ≥ 90%)`);
} finally {
  await client.close();
  redis.disconnect();
  server.kill('SIGKILL');
}
