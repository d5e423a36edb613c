/**
 * Overhead of the library's worker (`createWorker` + `makeJob`) over a raw BullMQ Worker, both
 * with no-op handlers, against real Redis.
 *
 *   npm run bench:worker-overhead
 *   BENCH_JOBS=2000 BENCH_LATENCY_JOBS=400 npm run bench:worker-overhead   # quick check
 *
 * Env: REDIS_URL, BENCH_JOBS (20000), BENCH_REPS (5), BENCH_CONCURRENCY (1,10,100),
 * BENCH_LATENCY_JOBS (2000), BENCH_LATENCY_RATE (200 jobs/s).
 * Exits 0 whatever the targets say; every key it writes is deleted at the end.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { latencyRun, throughputRun, type RunContext, type ThroughputResult } from './lib/runs.js';
import { SIDES, closeLogSink, jobOptions, stopEverything, type Side } from './lib/sides.js';
import { fmtInt, fmtMs, fmtPct, median, percentile } from './lib/stats.js';
import { envInt } from './lib/bench-env.js';
import { runBench } from './lib/run-bench.js';
import { runPrefixes } from './lib/run-prefixes.js';


const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const JOBS = envInt('BENCH_JOBS', 20_000);
const REPS = envInt('BENCH_REPS', 5);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY || '1,10,100').split(',').map((c) => envIntValue(c));
const LATENCY_JOBS = envInt('BENCH_LATENCY_JOBS', 2_000);
const LATENCY_RATE = envInt('BENCH_LATENCY_RATE', 200);
const LATENCY_CONCURRENCY = 10;
const LATENCY_ROUNDS = 2;
const WARMUP_JOBS = Math.min(2_000, JOBS);
const TARGET_THROUGHPUT_RATIO = 0.9;
const TARGET_P99_RATIO = 1.2;

function envIntValue(text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_CONCURRENCY: bad value "${text}"`);
  return n;
}

const { runId, prefixes, newPrefix } = runPrefixes('benchwo');
const admin = new Redis(REDIS_URL);
const producer = new Redis(REDIS_URL);
const rc: RunContext = { redisUrl: REDIS_URL, producer, admin, newPrefix };

/** `SIDES` rotated by `by`, so each side runs first, middle and last across reps. */
const rotated = (by: number): Side[] => SIDES.map((_, i) => SIDES[(i + by) % SIDES.length]!);
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const pad = (text: string, width: number) => text.padStart(width);

/** The commit measured, and whether the library had uncommitted changes (it is worked on concurrently). */
function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src').split('\n').filter(Boolean).length;
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in shared/src` : ', shared/src clean'}`;
  } catch {
    return 'git state unknown';
  }
}

async function header(): Promise<void> {
  const info = await admin.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const bullmq = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  console.log('# Worker overhead: library createWorker vs raw BullMQ Worker (no-op handlers)');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()})`);
  console.log(`redis ${redisVersion} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')} | bullmq ${bullmq} | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`library: ${gitState()}`);
  console.log(`job options (library defaults, both sides): ${JSON.stringify(jobOptions)}`);
  console.log('lib@info = logger at info (headline, one log line per job); lib@warn = same at warn; logs go to /dev/null.\n');
}

/** Per concurrency, per side: the result of each run. */
type Throughput = Map<number, Record<Side, ThroughputResult[]>>;
const best = (runs: ThroughputResult[]) => Math.max(...runs.map((r) => r.jobsPerSec));
const medianRate = (runs: ThroughputResult[]) => median(runs.map((r) => r.jobsPerSec));
const medianCpu = (runs: ThroughputResult[]) => median(runs.map((r) => r.cpuUsPerJob));

async function throughput(): Promise<Throughput> {
  const results: Throughput = new Map();
  for (const concurrency of CONCURRENCIES) {
    for (const side of SIDES) await throughputRun(rc, side, concurrency, WARMUP_JOBS); // warm-up, not reported
    const runs = { raw: [], 'lib@info': [], 'lib@warn': [] } as Record<Side, ThroughputResult[]>;
    for (let rep = 0; rep < REPS; rep++) {
      for (const side of rotated(rep)) {
        const result = await throughputRun(rc, side, concurrency, JOBS);
        runs[side].push(result);
        progress(`throughput c=${concurrency} rep ${rep + 1}/${REPS} ${side}: ${fmtInt(result.jobsPerSec)} jobs/s, ${result.cpuUsPerJob.toFixed(1)} µs CPU/job`);
      }
    }
    results.set(concurrency, runs);
  }
  console.log(`## Throughput: ${fmtInt(JOBS)} pre-filled jobs per run, timed from worker construction to the last 'completed' event`);
  console.log(`   ${REPS} runs per side and concurrency, side order rotated each rep (raw→info→warn, info→warn→raw, warn→raw→info, …),`);
  console.log(`   after one unreported warm-up run per side. Headline = BEST of ${REPS} (other load on this shared machine only slows runs down);`);
  console.log('   median shown for comparison.');
  console.log(`${pad('conc', 5)}${pad('raw', 9)}${pad('lib@info', 10)}${pad('info/raw', 10)}${pad('lib@warn', 10)}${pad('warn/raw', 10)}   medians: raw / info (ratio) / warn (ratio)`);
  for (const [concurrency, runs] of results) {
    const [raw, info, warn] = SIDES.map((s) => best(runs[s]));
    const [mRaw, mInfo, mWarn] = SIDES.map((s) => medianRate(runs[s]));
    const medians = `${fmtInt(mRaw!)} / ${fmtInt(mInfo!)} (${fmtPct(mInfo! / mRaw!)}) / ${fmtInt(mWarn!)} (${fmtPct(mWarn! / mRaw!)})`;
    console.log(`${pad(String(concurrency), 5)}${pad(fmtInt(raw!), 9)}${pad(fmtInt(info!), 10)}${pad(fmtPct(info! / raw!), 10)}${pad(fmtInt(warn!), 10)}${pad(fmtPct(warn! / raw!), 10)}   ${medians}`);
  }
  console.log('   CPU time of the bench process per job while the worker ran (median; less sensitive to other load than jobs/s):');
  for (const [concurrency, runs] of results) {
    const [raw, info, warn] = SIDES.map((s) => medianCpu(runs[s]));
    console.log(`   c=${String(concurrency).padEnd(4)} raw ${raw!.toFixed(1)} µs | lib@info ${info!.toFixed(1)} µs (+${(info! - raw!).toFixed(1)}) | lib@warn ${warn!.toFixed(1)} µs (+${(warn! - raw!).toFixed(1)})`);
  }
  console.log('   all runs (jobs/s, in run order):');
  for (const [concurrency, runs] of results) {
    for (const side of SIDES) console.log(`   c=${String(concurrency).padEnd(4)}${side.padEnd(9)} ${runs[side].map((r) => fmtInt(r.jobsPerSec)).join('  ')}`);
  }
  console.log();
  return results;
}

async function latency(): Promise<Record<Side, number[]>> {
  const samples = { raw: [], 'lib@info': [], 'lib@warn': [] } as Record<Side, number[]>;
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    const order = round % 2 === 0 ? [...SIDES] : [...SIDES].reverse();
    for (const side of order) {
      const ms = await latencyRun(rc, side, LATENCY_CONCURRENCY, LATENCY_JOBS, LATENCY_RATE);
      samples[side].push(...ms);
      progress(`latency round ${round + 1}/${LATENCY_ROUNDS} ${side}: p50 ${fmtMs(percentile(ms, 50))} p99 ${fmtMs(percentile(ms, 99))}`);
    }
  }
  console.log(`## Latency add → completed: ${fmtInt(LATENCY_JOBS)} jobs at ${LATENCY_RATE}/s per run, one add at a time on its own connection, worker concurrency ${LATENCY_CONCURRENCY}`);
  console.log(`   ${LATENCY_ROUNDS} rounds per side (order raw→info→warn, then reversed), samples pooled (${fmtInt(LATENCY_JOBS * LATENCY_ROUNDS)} per side)`);
  console.log(`${pad('side', 10)}${pad('p50', 11)}${pad('p99', 11)}${pad('max', 11)}${pad('p99/raw', 10)}`);
  const rawP99 = percentile(samples.raw, 99);
  for (const side of SIDES) {
    const s = samples[side];
    console.log(`${pad(side, 10)}${pad(fmtMs(percentile(s, 50)), 11)}${pad(fmtMs(percentile(s, 99)), 11)}${pad(fmtMs(Math.max(...s)), 11)}${pad(`${(percentile(s, 99) / rawP99).toFixed(2)}x`, 10)}`);
  }
  console.log();
  return samples;
}

function targets(tp: Throughput, lat: Record<Side, number[]>): void {
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  for (const lib of ['lib@info', 'lib@warn'] as const) {
    console.log(lib === 'lib@info' ? `## Targets (headline: lib@info; throughput = best of ${REPS}, latency = pooled p99)` : '## Same targets for lib@warn (informational)');
    for (const [concurrency, runs] of tp) {
      const ratio = best(runs[lib]) / best(runs.raw);
      console.log(`  ${verdict(ratio >= TARGET_THROUGHPUT_RATIO)}  throughput c=${concurrency}: ${fmtPct(ratio)} of raw (target ≥ ${fmtPct(TARGET_THROUGHPUT_RATIO)})`);
    }
    const p99Ratio = percentile(lat[lib], 99) / percentile(lat.raw, 99);
    console.log(`  ${verdict(p99Ratio <= TARGET_P99_RATIO)}  latency p99: ${p99Ratio.toFixed(2)}x raw (target ≤ ${TARGET_P99_RATIO}x)`);
  }
}

let cleaning: Promise<void> | undefined;
let interrupted = false;
/** Deletes every key of this run and closes the connections; the first call does it, later ones wait for it. */
const cleanup = () => (cleaning ??= deleteAllAndClose());

async function deleteAllAndClose(): Promise<void> {
  let leftover = 0;
  for (const prefix of prefixes) leftover += await deleteKeysUnder(admin, prefix);
  if (leftover > 0) console.log(`cleanup: deleted ${leftover} leftover keys`);
  closeLogSink();
  await Promise.all([producer.quit(), admin.quit()]);
}

process.once('SIGINT', () => {
  interrupted = true;
  console.error('\ninterrupted: deleting bench keys…');
  void stopEverything()
    .then(() => new Promise((resolve) => setTimeout(resolve, 300))) // let an in-flight add or addBulk land
    .then(cleanup)
    .finally(() => process.exit(130));
});

await runBench(
  async () => {
    await header();
    const tp = await throughput();
    const lat = await latency();
    targets(tp, lat);
  },
  {
    cleanup: async () => {
      await cleanup();
      console.log(`\ncleanup: removed every key under ${prefixes.length} prefixes ${runId}-*`);
    },
    interrupted: () => interrupted,
  },
);
