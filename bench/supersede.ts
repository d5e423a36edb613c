/**
 * makeSupersedingJob across processes: how fast a running job's `ctx.signal` fires after a newer
 * job with the same key is enqueued from another process, and what Redis traffic an idle worker
 * process makes with 0, 10 and 100 running superseding jobs.
 *
 *   npm run bench:supersede
 *   BENCH_SAMPLES=50 BENCH_WINDOW_S=3 npm run bench:supersede   # quick check
 *
 * Env: REDIS_URL (part 1; default redis://127.0.0.1:6379), BENCH_SAMPLES (200),
 * BENCH_WINDOW_S (10, per traffic phase), BENCH_LOCK_MS (4000, lock duration of the traffic
 * worker: short, so BullMQ's lock renewal shows up several times per window).
 * Part 1 runs on REDIS_URL (headline) and, for context, on a private redis-server started by the
 * bench (redis-server on the PATH); part 2 runs on that private server only, so its commandstats
 * and MONITOR show the measured worker alone. The worker runs in a child process
 * (bench/lib/supersede-worker.ts). Exits 0 whatever the targets say; every key and process it
 * makes is removed at the end (also on Ctrl-C).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
// The modules measured, imported one by one: the `@jobs/shared` barrel pulls in everything else too.
import { createJobClient } from '../shared/src/jobs/job-client.js';
import { createRedis } from '../shared/src/redis/connection.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/lib/private-redis.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { clientList, commandCalls, diffCalls, startTrafficRecorder, type MonitorRecord, type TrafficRecorder } from './lib/redis-traffic.js';
import { killChildren, startWorkerChild, type WorkerChild } from './lib/supersede-child.js';
import { benchHandlers } from './lib/supersede-handlers.js';
import { fmtMs, percentile } from './lib/stats.js';
import { envInt } from './lib/bench-env.js';
import { runBench } from './lib/run-bench.js';
import { runPrefixes } from './lib/run-prefixes.js';


const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const SAMPLES = envInt('BENCH_SAMPLES', 200);
const WINDOW_MS = envInt('BENCH_WINDOW_S', 10) * 1_000;
const TRAFFIC_LOCK_MS = envInt('BENCH_LOCK_MS', 4_000);
const WARMUP_SAMPLES = 5;
/** How long job A has been running when B is enqueued. */
const GAP_MS = 50;
const LATENCY_CONCURRENCY = 10;
const LATENCY_LOCK_MS = 30_000;
const TRAFFIC_CONCURRENCY = 100;
const TRAFFIC_STEPS = [0, 10, 100] as const;
/** After the jobs of a phase have started, before its window opens. */
const SETTLE_MS = 2_000;
const LONG_JOB_MS = 30 * 60_000;
const TARGET_P99_MS = 50;
const SEED_POLL_MS = 500;
/** Slack for timer jitter on top of BullMQ's lock-renewal rate in the traffic criterion. */
const TRAFFIC_SLACK_PER_S = 1;

const { runId, prefixes, newPrefix } = runPrefixes('benchsup');
const admin = new Redis(REDIS_URL);
const children: WorkerChild[] = [];
let privateRedis: PrivateRedis | undefined;
const toClose: (() => Promise<unknown>)[] = [];
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const pad = (text: string, width: number) => text.padStart(width);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const ns = (a: bigint, b: bigint) => Number(a - b) / 1e6;

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src').split('\n').filter(Boolean).length;
    // The files on the measured path (enqueue → supersede → abort → worker → handler).
    const path = ['patterns/supersede.ts', 'abort', 'worker.ts', 'processor.ts', 'run-job.ts', 'job-client.ts'].map((f) => `shared/src/jobs/${f}`);
    const touched = git('status', '--porcelain', '--', ...path).split('\n').filter(Boolean).map((l) => l.replace(/^\s*\S+\s+/, '').replace('shared/src/jobs/', ''));
    const measured = touched.length ? `uncommitted on the measured path: ${touched.join(', ')}` : 'measured path (supersede, abort, worker, processor, run-job, job-client) as committed';
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in shared/src` : ', shared/src clean'}; ${measured}`;
  } catch {
    return 'git state unknown';
  }
}

const redisVersion = async (redis: Redis) => /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';

async function header(): Promise<void> {
  const bullmq = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  console.log('# Superseding jobs across processes: abort latency and idle Redis traffic');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}) | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`redis ${await redisVersion(admin)} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')} (part 1; shared, other users may load it) | bullmq ${bullmq}`);
  console.log(`library: ${gitState()}\n`);
}

// ---------------------------------------------------------------------------------------------
// Part 1: abort latency, bench process → worker child process
// ---------------------------------------------------------------------------------------------

/**
 * Whether `process.hrtime` (CLOCK_MONOTONIC on Linux, one clock for the whole machine) can be
 * compared between this process and the child: its offset to `Date.now()` must agree.
 */
function sharedMonotonicClock(child: WorkerChild): { shared: boolean; skewMs: number } {
  const childOffset = Number(BigInt(child.ready.hrNs) / 1000n) / 1e3 - child.ready.nowMs;
  const hr = process.hrtime.bigint();
  const ownOffset = Number(hr / 1000n) / 1e3 - Date.now();
  const skewMs = ownOffset - childOffset;
  return { shared: Math.abs(skewMs) < 3, skewMs };
}

interface LatencySample {
  /** Signal fired in the child − just before enqueueJob(B), on the shared monotonic clock (or Date.now()). */
  ms: number;
  /** The same with Date.now() on both sides (1 ms resolution). */
  dateMs: number;
  /** How long enqueueJob(B) took in the bench process. */
  enqueueMs: number;
}

interface LatencyRun {
  samples: LatencySample[];
  missed: number;
  clock: string;
  /** PING round trips on the same Redis from the bench, one after each sample. */
  pings: number[];
  /** 1-min load average when the run started and ended. */
  load: [number, number];
  /** What enqueueJob(B) sent, seen by MONITOR in one extra unreported sample (when asked for). */
  enqueueCommands?: string[];
}

/**
 * `redis` is a connection to the server at `url`, used for PINGs and to delete the keys after.
 * With `traceEnqueue`, one extra sample runs under MONITOR to list the commands of enqueueJob(B).
 */
async function abortLatency(url: string, redis: Redis, label: string, traceEnqueue = false): Promise<LatencyRun> {
  const prefix = newPrefix();
  const load0 = os.loadavg()[0]!;
  const child = await startWorkerChild({ redisUrl: url, prefix, concurrency: LATENCY_CONCURRENCY, lockMs: LATENCY_LOCK_MS });
  children.push(child);
  const producer = createRedis(url, 'producer', { connectionName: 'bench-producer' });
  const client = createJobClient({ handlers: benchHandlers, connection: producer, prefix });
  const { shared, skewMs } = sharedMonotonicClock(child);
  const clock = shared
    ? `process.hrtime (CLOCK_MONOTONIC, one clock for both processes; its offset to Date.now() agrees within ${Math.abs(skewMs).toFixed(2)} ms)`
    : `Date.now() (monotonic clocks did not agree: skew ${skewMs.toFixed(1)} ms)`;
  const samples: LatencySample[] = [];
  const pings: number[] = [];
  let missed = 0;
  let enqueueCommands: string[] | undefined;

  /** Runs A, supersedes it with B; undefined when A's signal never fired. */
  async function supersedeOnce(i: number, beforeB?: () => void): Promise<{ sample: LatencySample; fromMs: number; toMs: number } | undefined> {
    const key = `k${i}`;
    const idA = await client.enqueueJob('waiter', { key, tag: `A${i}`, ms: LONG_JOB_MS });
    await child.waitFor('start', idA);
    await sleep(GAP_MS);
    beforeB?.();
    const now0 = Date.now();
    const hr0 = process.hrtime.bigint();
    const idB = await client.enqueueJob('waiter', { key, tag: `B${i}`, ms: 0 });
    const hr1 = process.hrtime.bigint();
    const toMs = Date.now();
    let abort;
    try {
      abort = await child.waitFor('abort', idA, 5_000);
    } catch {
      progress(`sample ${i}: job ${idA} not aborted within 5 s`);
      return undefined;
    }
    if (abort.reason !== 'superseded') throw new Error(`job ${idA} aborted for "${abort.reason}", expected "superseded"`);
    await child.waitFor('end', idB);
    const dateMs = abort.nowMs - now0;
    return { sample: { ms: shared ? ns(BigInt(abort.hrNs), hr0) : dateMs, dateMs, enqueueMs: ns(hr1, hr0) }, fromMs: now0, toMs };
  }

  try {
    for (let i = 0; i < WARMUP_SAMPLES + SAMPLES; i++) {
      const result = await supersedeOnce(i);
      if (i < WARMUP_SAMPLES) continue;
      if (!result) {
        missed++;
        continue;
      }
      samples.push(result.sample);
      const p0 = process.hrtime.bigint();
      await redis.ping();
      pings.push(ns(process.hrtime.bigint(), p0));
      if ((i + 1 - WARMUP_SAMPLES) % 50 === 0) progress(`abort latency (${label}): ${i + 1 - WARMUP_SAMPLES}/${SAMPLES} samples`);
    }
    if (traceEnqueue) {
      const addr = (await clientList(redis)).find((c) => c.name === 'bench-producer')?.addr;
      const recorder = await startTrafficRecorder(redis);
      try {
        const result = await supersedeOnce(WARMUP_SAMPLES + SAMPLES);
        await sleep(20); // let MONITOR's last lines arrive
        if (result && addr) enqueueCommands = recorder.between(result.fromMs - 1, result.toMs + 1).filter((r) => r.source === addr).map((r) => r.command);
      } finally {
        await recorder.stop();
      }
    }
  } finally {
    await client.close();
    await producer.quit();
    await child.stop();
    await deleteKeysUnder(redis, prefix);
  }
  return { samples, missed, clock, pings, load: [load0, os.loadavg()[0]!], enqueueCommands };
}

/** `multi … exec` is one round trip; every other command is awaited before the next. */
function roundTrips(commands: string[]): string[] {
  const trips: string[] = [];
  let multi: string[] | undefined;
  for (const command of commands) {
    if (command === 'multi') multi = [];
    else if (command === 'exec' && multi) {
      trips.push(`MULTI(${multi.join('+')})`);
      multi = undefined;
    } else if (multi) multi.push(command);
    else trips.push(command);
  }
  return trips;
}

/** BullMQ's own mechanism in one process: `worker.cancelJob(id)` → the processor's signal fires. */
async function rawCancelLatency(count: number): Promise<number[]> {
  const prefix = newPrefix();
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs', { connection: admin, prefix });
  const started = new Map<string, () => void>();
  let firedHr = 0n;
  const worker = new Worker(
    'jobs',
    (job, _token, signal) =>
      new Promise<void>((resolve) => {
        signal!.addEventListener('abort', () => ((firedHr = process.hrtime.bigint()), resolve()), { once: true });
        started.get(job.id!)?.();
      }),
    { connection, prefix, concurrency: LATENCY_CONCURRENCY, lockDuration: LATENCY_LOCK_MS },
  );
  worker.on('error', (err) => console.error(`raw worker error: ${err.message}`));
  const out: number[] = [];
  try {
    for (let i = 0; i < WARMUP_SAMPLES + count; i++) {
      const id = `raw-${i}`;
      const running = new Promise<void>((resolve) => started.set(id, resolve));
      await queue.add('x', { i }, { jobId: id, removeOnComplete: true, removeOnFail: true });
      await running;
      await sleep(GAP_MS);
      firedHr = 0n;
      const hr0 = process.hrtime.bigint();
      worker.cancelJob(id, 'superseded');
      if (firedHr === 0n) throw new Error(`raw cancelJob(${id}) did not fire the signal synchronously`);
      if (i >= WARMUP_SAMPLES) out.push(ns(firedHr, hr0));
      started.delete(id);
    }
  } finally {
    await worker.close();
    await queue.close();
    await connection.quit();
    await deleteKeysUnder(admin, prefix);
  }
  return out;
}

function reportLatency(lat: LatencyRun, quiet: LatencyRun, raw: number[], privateVersion: string): boolean {
  const ms = lat.samples.map((s) => s.ms);
  const row = (label: string, v: number[], fmt = fmtMs) =>
    console.log(`${label.padEnd(46)}${pad(fmt(percentile(v, 50)), 11)}${pad(fmt(percentile(v, 95)), 11)}${pad(fmt(percentile(v, 99)), 11)}${pad(fmt(Math.max(...v)), 11)}`);
  const block = (run: LatencyRun, headline: string) => {
    row(headline, run.samples.map((s) => s.ms));
    row('  same, Date.now() on both sides (1 ms res.)', run.samples.map((s) => s.dateMs));
    row('  of which enqueueJob(B) itself took', run.samples.map((s) => s.enqueueMs));
    row('  remainder: pub/sub hop → signal fired', run.samples.map((s) => s.ms - s.enqueueMs));
    row('  context: one PING round trip, same Redis', run.pings);
  };
  console.log(`## 1. Abort latency across processes (${lat.samples.length} samples after ${WARMUP_SAMPLES} unreported warm-up; ${lat.missed} never aborted)`);
  console.log(`   Job A (superseding, 30 min) runs on a worker child process (createWorker, concurrency ${LATENCY_CONCURRENCY}); ${GAP_MS} ms after it`);
  console.log('   started, the bench process enqueues B with the same key (createJobClient.enqueueJob). Latency = the instant');
  console.log("   A's ctx.signal fired in the child − the instant just before enqueueJob(B) in the bench.");
  console.log(`   clock: ${lat.clock}`);
  console.log(`   1-min load average: ${lat.load.map((l) => l.toFixed(2)).join(' → ')} over the REDIS_URL run, ${quiet.load.map((l) => l.toFixed(2)).join(' → ')} over the private one (${os.cpus().length} CPUs)`);
  console.log(`${''.padEnd(46)}${pad('p50', 11)}${pad('p95', 11)}${pad('p99', 11)}${pad('max', 11)}`);
  block(lat, `enqueue B → A.signal fired (HEADLINE, REDIS_URL)`);
  console.log(`   the same run on a private redis-server ${privateVersion} (no other clients; same machine and CPUs), for context (${quiet.samples.length} samples, ${quiet.missed} never aborted):`);
  block(quiet, 'enqueue B → A.signal fired (private Redis)');
  if (raw.length) row('raw BullMQ worker.cancelJob, same process', raw, (n) => `${(n * 1000).toFixed(1)} µs`);
  console.log(`   (raw: a BullMQ Worker's own cancelJob(id) → the processor's signal, ${raw.length} samples: the floor of the abort itself)`);
  if (quiet.enqueueCommands) {
    const trips = roundTrips(quiet.enqueueCommands);
    console.log(`   enqueueJob(B) while A runs = ${trips.length} sequential round trips (MONITOR, 1 extra sample): ${trips.join(' → ')}`);
  }
  console.log(`seed floor (modelled, not run): polling a flag every ${SEED_POLL_MS} ms → mean ~${SEED_POLL_MS / 2} ms, p99 ~${(SEED_POLL_MS * 0.99).toFixed(0)} ms`);
  const p99 = percentile(ms, 99);
  const ok = lat.missed === 0 && lat.samples.length > 0 && p99 < TARGET_P99_MS;
  console.log(`  ${verdict(ok)}  p99 ${fmtMs(p99)} on REDIS_URL (target < ${TARGET_P99_MS} ms${lat.missed ? `, and ${lat.missed} aborts never arrived` : ''}); private Redis p99 ${fmtMs(percentile(quiet.samples.map((s) => s.ms), 99))}\n`);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Part 2: Redis traffic of one worker process, private redis-server
// ---------------------------------------------------------------------------------------------

type Role = 'BullMQ main' | 'BullMQ blocking' | 'ours: handlers' | 'ours: abort sub' | 'unknown';
const ROLES: Role[] = ['BullMQ main', 'BullMQ blocking', 'ours: handlers', 'ours: abort sub', 'unknown'];

interface Phase {
  running: number;
  seconds: number;
  /** Top-level commands the worker's connections sent in the window. */
  records: MonitorRecord[];
  /** Calls run inside Lua scripts in the window (MONITOR source `lua`). */
  luaCalls: number;
  /** INFO commandstats delta (server-side calls incl. Lua), minus the bench's own INFO. */
  serverCalls: number;
}

async function traffic(): Promise<{ phases: Phase[]; roleOf: Map<string, Role>; version: string; aborted: number; connections: Role[] }> {
  const url = privateRedis!.url;
  const padmin = createRedis(url, 'worker', { connectionName: 'bench-admin' });
  const producer = createRedis(url, 'producer', { connectionName: 'bench-producer' });
  toClose.push(() => padmin.quit(), () => producer.quit());
  const version = await redisVersion(padmin);
  const recorder: TrafficRecorder = await startTrafficRecorder(padmin);
  toClose.unshift(() => recorder.stop());
  const prefix = 'benchsup';
  const child = await startWorkerChild({ redisUrl: url, prefix, concurrency: TRAFFIC_CONCURRENCY, lockMs: TRAFFIC_LOCK_MS });
  children.push(child);
  const client = createJobClient({ handlers: benchHandlers, connection: producer, prefix });
  const ids: string[] = [];
  const phases: Phase[] = [];
  let workerClients: Awaited<ReturnType<typeof clientList>> = [];
  let aborted = 0;
  try {
    for (const running of TRAFFIC_STEPS) {
      while (ids.length < running) ids.push(await client.enqueueJob('waiter', { key: `t${ids.length}`, tag: `T${ids.length}`, ms: LONG_JOB_MS }));
      await child.waitForCount('start', running);
      await sleep(SETTLE_MS);
      const before = await commandCalls(padmin);
      const from = Date.now();
      progress(`traffic: ${running} running jobs, ${WINDOW_MS / 1000} s window`);
      await sleep(WINDOW_MS);
      const to = Date.now();
      const after = await commandCalls(padmin);
      const clients = await clientList(padmin);
      workerClients = clients.filter((c) => !c.name.startsWith('bench-'));
      const mine = new Set(clients.filter((c) => c.name.startsWith('bench-')).map((c) => c.addr));
      const inWindow = recorder.between(from, to);
      const diff = diffCalls(before, after);
      diff.set('info', (diff.get('info') ?? 0) - 1); // the first INFO commandstats is counted by the second
      phases.push({
        running,
        seconds: (to - from) / 1000,
        records: inWindow.filter((r) => r.source !== 'lua' && !mine.has(r.source)),
        luaCalls: inWindow.filter((r) => r.source === 'lua').length,
        serverCalls: [...diff.values()].reduce((a, b) => a + b, 0),
      });
    }
    // Supersede every running job: 100 aborts through the one subscriber; also ends them cleanly.
    for (let i = 0; i < ids.length; i++) await client.enqueueJob('waiter', { key: `t${i}`, tag: `U${i}`, ms: 0 });
    await Promise.all(ids.map((id) => child.waitFor('abort', id, 10_000).then(() => aborted++, () => undefined)));
  } finally {
    await client.close();
    await child.stop();
  }
  const roleOf = rolesOf(recorder.records, workerClients);
  const connections = workerClients.map((c) => roleOf.get(c.addr) ?? 'unknown');
  return { phases, roleOf, version, aborted, connections };
}

/** Which connection is which, from what each sent over the whole run (and CLIENT LIST flags). */
function rolesOf(records: readonly MonitorRecord[], clients: Awaited<ReturnType<typeof clientList>>): Map<string, Role> {
  const bySource = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.source === 'lua') continue;
    const tags = bySource.get(r.source) ?? new Set<string>();
    tags.add(r.command);
    if (r.command === 'get' && r.firstArg?.includes(':job:latest:')) tags.add('latest-get');
    bySource.set(r.source, tags);
  }
  const subscribers = new Set(clients.filter((c) => c.sub > 0 || c.flags.includes('P')).map((c) => c.addr));
  const roles = new Map<string, Role>();
  for (const [source, tags] of bySource) {
    if (subscribers.has(source) || tags.has('subscribe')) roles.set(source, 'ours: abort sub');
    else if (tags.has('bzpopmin')) roles.set(source, 'BullMQ blocking');
    else if (tags.has('latest-get')) roles.set(source, 'ours: handlers');
    else if ([...tags].some((t) => t.startsWith('evalsha'))) roles.set(source, 'BullMQ main');
    else roles.set(source, 'unknown');
  }
  return roles;
}

function reportTraffic(t: Awaited<ReturnType<typeof traffic>>): boolean {
  const rate = (p: Phase) => p.records.length / p.seconds;
  const renewPerS = 4_000 / TRAFFIC_LOCK_MS; // BullMQ's lock-renewal timer ticks every lockDuration/4
  const stalledPerS = 1_000 / Math.min(TRAFFIC_LOCK_MS, 30_000);
  console.log(`## 2. Redis traffic of one idle worker process (createWorker, concurrency ${TRAFFIC_CONCURRENCY}, lockDuration ${TRAFFIC_LOCK_MS / 1000} s)`);
  console.log(`   Private redis-server ${t.version} (nothing else on it). Jobs: superseding, each just waits on its signal (30 min).`);
  console.log(`   Per phase: jobs started, ${SETTLE_MS / 1000} s settle, then a ${WINDOW_MS / 1000} s window. Counted with MONITOR: top-level commands sent by`);
  console.log('   the worker process\'s connections (the bench\'s own connections excluded), split by connection.');
  console.log(`   The worker process holds ${t.connections.length} connections (CLIENT LIST): ${t.connections.join(', ')}.`);
  const [a, c, b] = t.phases as [Phase, Phase, Phase];
  const header = `${'running jobs'.padEnd(14)}${pad('cmds/s', 9)}${ROLES.filter((r) => r !== 'unknown').map((r) => pad(r, 17)).join('')}${pad('≈req B/s', 10)}${pad('Lua calls/s', 13)}${pad('server calls/s', 16)}`;
  console.log(header);
  for (const p of t.phases) {
    const perRole = ROLES.filter((r) => r !== 'unknown').map((role) => pad((p.records.filter((r) => (t.roleOf.get(r.source) ?? 'unknown') === role).length / p.seconds).toFixed(2), 17));
    const bytes = p.records.reduce((n, r) => n + r.bytes, 0) / p.seconds;
    console.log(`${String(p.running).padEnd(14)}${pad(rate(p).toFixed(2), 9)}${perRole.join('')}${pad(bytes.toFixed(0), 10)}${pad((p.luaCalls / p.seconds).toFixed(1), 13)}${pad((p.serverCalls / p.seconds).toFixed(1), 16)}`);
  }
  const unknown = t.phases.reduce((n, p) => n + p.records.filter((r) => !t.roleOf.has(r.source) || t.roleOf.get(r.source) === 'unknown').length, 0);
  if (unknown) console.log(`   (${unknown} commands came from connections whose role could not be told)`);
  console.log('   top commands per phase (count in window, connection):');
  for (const p of t.phases) {
    const counts = new Map<string, number>();
    for (const r of p.records) {
      const k = `${r.command} [${t.roleOf.get(r.source) ?? 'unknown'}]`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const top = [...counts].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([k, n]) => `${n}× ${k}`);
    console.log(`   ${String(p.running).padStart(3)} jobs: ${top.length ? top.join(', ') : '(nothing)'}`);
  }
  console.log('   Attribution: BullMQ main = moveToActive/extendLocks/moveStalledJobsToWait EVALSHAs; BullMQ blocking = the BZPOPMIN fetch');
  console.log(`   loop (drainDelay 5 s; no fetch while all ${TRAFFIC_CONCURRENCY} slots are busy); ours: handlers = the claim-at-start script (EVALSHA) of the "latest" key at each`);
  console.log('   job start + the release EVAL at its end (none in a window: no job starts or ends there); ours: abort sub = the one');
  console.log('   subscriber (SUBSCRIBE once; nothing while idle). BullMQ renews the locks of ALL active jobs in one extendLocks call');
  console.log(`   per lockDuration/4 (= ${(TRAFFIC_LOCK_MS / 4000).toFixed(1)} s here; 75 s at the library default of 5 min) and checks stalled jobs every ${Math.min(TRAFFIC_LOCK_MS, 30_000) / 1000} s.`);
  console.log('   "Lua calls" / "server calls" (INFO commandstats) count the calls made inside those scripts: extendLocks touches each');
  console.log('   job\'s lock there, and its one request carries every job id + token (≈req B/s), so server-side work and bytes grow');
  console.log('   with jobs, not the number of commands. That is BullMQ\'s (and at the 5 min default lock it happens every 75 s).');
  console.log(`   After the last window every running job was superseded: ${t.aborted}/${TRAFFIC_STEPS.at(-1)} signals fired through the one subscriber.`);
  const allowance = renewPerS + stalledPerS + TRAFFIC_SLACK_PER_S;
  const growth10to100 = rate(b) - rate(c);
  const okBase = rate(b) <= rate(a) + allowance;
  const okTrend = growth10to100 <= TRAFFIC_SLACK_PER_S;
  console.log(`   criterion: (b) 100 jobs ≤ (a) 0 jobs + ${allowance.toFixed(2)} cmds/s, the allowance being BullMQ's lock-renewal timer (${renewPerS.toFixed(2)}/s,`);
  console.log(`   one call whatever the job count) + its stalled check (${stalledPerS.toFixed(2)}/s) + ${TRAFFIC_SLACK_PER_S}/s timer jitter; and (b) − (c) ≤ ${TRAFFIC_SLACK_PER_S} cmds/s for 90 more`);
  console.log(`   jobs (per-job polling at the seed's 500 ms would add 2 cmds/s per job: +180/s here).`);
  const ok = okBase && okTrend && t.phases.length === 3;
  console.log(`  ${verdict(okBase)}  (b) ${rate(b).toFixed(2)} vs (a) ${rate(a).toFixed(2)} cmds/s: +${(rate(b) - rate(a)).toFixed(2)} (allowed +${allowance.toFixed(2)})`);
  console.log(`  ${verdict(okTrend)}  growth from 10 to 100 jobs: ${growth10to100 >= 0 ? '+' : ''}${growth10to100.toFixed(2)} cmds/s = ${(growth10to100 / 90).toFixed(4)} cmds/s per job`);
  console.log(`  ${verdict(ok)}  traffic does not grow with the number of running jobs\n`);
  return ok;
}

// ---------------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
let interrupted = false;
const cleanup = () => (cleaning ??= cleanUpAll());

async function cleanUpAll(): Promise<void> {
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  for (const close of toClose.splice(0)) await close().catch(() => undefined);
  await privateRedis?.stop();
  let leftover = 0;
  for (const prefix of prefixes) leftover += await deleteKeysUnder(admin, prefix).catch(() => 0);
  if (leftover > 0) console.log(`cleanup: deleted ${leftover} leftover keys`);
  await admin.quit().catch(() => admin.disconnect());
}

/** Ctrl-C reaches the bench twice (from the terminal, and relayed by tsx): clean up once, ignore the rest. */
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  console.error(`\n${signal}: stopping children, deleting bench keys…`);
  void cleanup().finally(() => {
    killChildren();
    process.exit(130);
  });
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

await runBench(
  async () => {
    await header();
    privateRedis = await startPrivateRedis();
    const quietAdmin = new Redis(privateRedis.url);
    toClose.push(() => quietAdmin.quit());
    const latency = await abortLatency(REDIS_URL, admin, 'REDIS_URL');
    const quiet = await abortLatency(privateRedis.url, quietAdmin, 'private Redis', true);
    const raw = await rawCancelLatency(Math.min(SAMPLES, 200));
    const latencyOk = reportLatency(latency, quiet, raw, await redisVersion(quietAdmin));
    await quietAdmin.quit(); // part 2 needs the private server to itself
    const trafficResult = await traffic();
    const trafficOk = reportTraffic(trafficResult);
    console.log('## Targets');
    console.log(`  ${verdict(latencyOk)}  abort latency across processes: p99 < ${TARGET_P99_MS} ms`);
    console.log(`  ${verdict(trafficOk)}  idle Redis traffic does not grow with running jobs`);
  },
  {
    cleanup: async () => {
      await cleanup();
      console.log(`\ncleanup: worker children stopped, private redis-server stopped, keys under ${prefixes.length} prefixes ${runId}-* deleted`);
    },
    interrupted: () => interrupted,
  },
);
