/**
 * Cost of tracing (SPEC §15, issue 16): worker throughput and HTTP enqueue with the code before
 * tracing landed ("before", a git worktree of that commit sharing node_modules), today's code
 * with tracing off (no OTLP endpoint: nothing of the SDK loaded), and tracing on with
 * `OTEL_TRACES_SAMPLER=parentbased_traceidratio` at 1.0 and 0.1, exporting OTLP/HTTP (protobuf)
 * to a local sink that accepts and discards.
 *
 *   npm run bench:tracing
 *   BENCH_JOBS=5000 BENCH_REPS=1 BENCH_SECONDS=3 npm run bench:tracing   # quick check
 *
 * Env: REDIS_URL, DATABASE_URL, BENCH_JOBS (20000) per worker run, BENCH_REPS (3) per side,
 * BENCH_CONCURRENCY (10) of the worker, BENCH_SECONDS (8) and BENCH_WARMUP_SECONDS (2) per HTTP
 * run, BENCH_CONNECTIONS (50), BENCH_BEFORE_COMMIT (default: the parent of the first tracing
 * commit), BENCH_BEFORE_DIR (/tmp/jobs-before-tracing), BENCH_MODES (worker,http).
 * Every run is a child process (bench/lib/tracing-child.ts); sides alternate order each rep;
 * headline = best of the reps (other load only slows a run down), CPU = median. Exits 0 whatever
 * the targets say; every key it writes is deleted, the worktree removed.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { envInt } from './lib/bench-env.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { runBench } from './lib/run-bench.js';
import { runPrefixes } from './lib/run-prefixes.js';
import { fmtInt, fmtPct, median } from './lib/stats.js';
import { commitBeforeTracing, prepareBeforeTree } from './lib/tracing-before-tree.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const JOBS = envInt('BENCH_JOBS', 20_000);
const REPS = envInt('BENCH_REPS', 3);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 10);
const SECONDS = envInt('BENCH_SECONDS', 8);
const WARMUP_SECONDS = envInt('BENCH_WARMUP_SECONDS', 2, 0);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50);
const BEFORE_DIR = process.env.BENCH_BEFORE_DIR || '/tmp/jobs-before-tracing';
const MODES = (process.env.BENCH_MODES || 'worker,http').split(',').map((m) => m.trim());
const TARGET_OFF = 0.98;
const TARGET_ON = 0.7;

const SIDES = ['before', 'off', 'on@1.0', 'on@0.1'] as const;
type Side = (typeof SIDES)[number];
type Mode = 'worker' | 'http';
interface Result {
  perSec: number;
  cpuUsPer: number;
  p99Ms?: number;
  non2xx?: number;
}

const { runId, prefixes, newPrefix } = runPrefixes('benchtr');
const admin = new Redis(REDIS_URL);
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);

/** The OTLP sink: reads and discards every export (counts them, to show spans did go out). */
let exports = 0;
let exportedBytes = 0;
const sink = createServer((req, res) => {
  req.on('data', (c: Buffer) => (exportedBytes += c.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

function runChild(side: Side, mode: Mode, root: string, sinkUrl: string): Promise<Result> {
  const tracing = side.startsWith('on@');
  const spec = { root, mode, tracing, redisUrl: REDIS_URL, prefix: newPrefix(), jobs: JOBS, concurrency: CONCURRENCY, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS };
  const env: NodeJS.ProcessEnv = { ...process.env, APP_ENV: 'local' };
  for (const key of Object.keys(env)) if (key.startsWith('OTEL_')) delete env[key];
  if (tracing) {
    Object.assign(env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: side.slice(3),
    });
  }
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', fileURLToPath(new URL('./lib/tracing-child.ts', import.meta.url)), JSON.stringify(spec)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', async (code) => {
      await deleteKeysUnder(admin, spec.prefix).catch(() => undefined);
      const line = out.split('\n').find((l) => l.startsWith('{"result"'));
      if (code !== 0 || !line) return reject(new Error(`${mode} ${side} child exited ${code}: ${out.slice(-2000)}`));
      resolve((JSON.parse(line) as { result: Result }).result);
    });
  });
}

async function measure(mode: Mode, before: string, sinkUrl: string): Promise<Record<Side, Result[]>> {
  const runs = { before: [], off: [], 'on@1.0': [], 'on@0.1': [] } as Record<Side, Result[]>;
  for (let rep = 0; rep < REPS; rep++) {
    const order = SIDES.map((_, i) => SIDES[(i + rep) % SIDES.length]!);
    for (const side of order) {
      const result = await runChild(side, mode, side === 'before' ? before : ROOT, sinkUrl);
      runs[side].push(result);
      progress(`${mode} rep ${rep + 1}/${REPS} ${side}: ${fmtInt(result.perSec)}/s, ${result.cpuUsPer.toFixed(1)} µs CPU each${result.non2xx ? `, ${result.non2xx} non-2xx` : ''}`);
    }
  }
  return runs;
}

function report(title: string, unit: string, runs: Record<Side, Result[]>): Record<Side, number> {
  const best = Object.fromEntries(SIDES.map((s) => [s, Math.max(...runs[s].map((r) => r.perSec))])) as Record<Side, number>;
  const cpu = Object.fromEntries(SIDES.map((s) => [s, median(runs[s].map((r) => r.cpuUsPer))])) as Record<Side, number>;
  console.log(`## ${title}`);
  console.log(`${'side'.padEnd(8)}${`best ${unit}`.padStart(14)}${'vs before'.padStart(11)}${'CPU µs each'.padStart(13)}${'vs before'.padStart(11)}   all runs`);
  for (const side of SIDES) {
    console.log(
      `${side.padEnd(8)}${fmtInt(best[side]).padStart(14)}${fmtPct(best[side] / best.before).padStart(11)}${cpu[side].toFixed(1).padStart(13)}${`${(cpu[side] / cpu.before).toFixed(2)}x`.padStart(11)}   ${runs[side].map((r) => fmtInt(r.perSec)).join('  ')}`,
    );
  }
  console.log();
  return best;
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

let removeTree: (() => void) | undefined;
await runBench(
  async () => {
    const commit = commitBeforeTracing(ROOT);
    removeTree = prepareBeforeTree(ROOT, commit, BEFORE_DIR);
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    console.log('# Tracing overhead: before tracing vs tracing off vs on (ratio 1.0 and 0.1)');
    console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`before = ${commit.slice(0, 9)} (worktree ${BEFORE_DIR}); off/on = this checkout; on = OTLP http/protobuf to a discarding sink, parentbased_traceidratio`);
    console.log(`worker: ${fmtInt(JOBS)} no-op jobs per run (enqueueJobs, 100 per batch: one producer span per batch), concurrency ${CONCURRENCY}, logger at info → /dev/null`);
    console.log(`http: POST /api/admin/job (echo) through startApiService, ${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up; no traceparent sent (each request a root)`);
    console.log(`${REPS} runs per side, order rotated each rep; best rate shown, CPU = median\n`);

    const measured: [string, Record<Side, number>][] = [];
    if (MODES.includes('worker')) measured.push(['worker', report('Worker throughput (jobs/s)', 'jobs/s', await measure('worker', BEFORE_DIR, sinkUrl))]);
    if (MODES.includes('http')) measured.push(['http enqueue', report('HTTP enqueue (2xx requests/s)', 'req/s', await measure('http', BEFORE_DIR, sinkUrl))]);
    console.log(`sink: ${fmtInt(exports)} OTLP exports received, ${fmtInt(exportedBytes / 1024)} KiB`);
    console.log('## Targets');
    for (const [name, best] of measured) {
      console.log(`  ${verdict(best.off / best.before >= TARGET_OFF)}  ${name} off: ${fmtPct(best.off / best.before)} of before (target ≥ ${fmtPct(TARGET_OFF)})`);
      console.log(`  ${verdict(best['on@1.0'] / best.before >= TARGET_ON)}  ${name} on@1.0: ${fmtPct(best['on@1.0'] / best.before)} of before (target ≥ ${fmtPct(TARGET_ON)})`);
      console.log(`  info  ${name} on@0.1: ${fmtPct(best['on@0.1'] / best.before)} of before`);
    }
  },
  {
    cleanup: async () => {
      sink.close();
      removeTree?.();
      for (const prefix of prefixes) await deleteKeysUnder(admin, prefix);
      await admin.quit();
      console.log(`\ncleanup: removed every key under ${prefixes.length} prefixes ${runId}-*, and the worktree`);
    },
    interrupted: () => false,
  },
);
