/**
 * Cost of enqueueing over HTTP: `POST /api/admin/job` through the real API (startApiService:
 * middleware, zod-openapi validation, the job client, BullMQ add) against a minimal route doing
 * only `JSON.parse` + `queue.add` and a bare Hono route, all on the same @hono/node-server stack,
 * and against in-process `queue.add` on the same Redis. Batches (issue 15): `POST
 * /api/admin/job/batch` of BENCH_BATCH_SIZE jobs against in-process `queue.addBulk` of as many.
 *
 *   npm run bench:enqueue-http
 *   BENCH_SECONDS=3 BENCH_WARMUP_SECONDS=1 npm run bench:enqueue-http   # quick check
 *
 * Env: REDIS_URL, DATABASE_URL (test Postgres; a private schema is created and dropped),
 * BENCH_SECONDS (10) per run, BENCH_WARMUP_SECONDS (2) unreported warm-up before each run,
 * BENCH_CONNECTIONS (10,100), BENCH_IN_FLIGHT (100) for queue.add, BENCH_LOG_LEVEL (info) of the
 * API's logger, which writes to /dev/null, BENCH_BATCH_SIZE (100) jobs per batch and
 * BENCH_BATCH_CONNECTIONS (10): connections for the batch route, and addBulk calls in flight,
 * BENCH_CPU_REPS (3): minimal and enqueue runs at the highest connection count, alternating; the
 * CPU target compares their medians (one run each swings with whatever else the machine does).
 * autocannon runs in a forked child process (bench/lib/autocannon-child.ts); the servers and the
 * queue.add loop run in this process. Exits 0 whatever the targets say; every key under its
 * prefix is deleted and the schema dropped at the end.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startApiService, type ApiService } from '../services/api/src/api-service.js';
import { jobHandlers } from '../shared/src/index.js';
import { makeEnvelope, toBullJobOptions } from '../shared/src/jobs/index.js';
import { loadConfig } from '../shared/src/config/index.js';
import { createLogger } from '../shared/src/logger/index.js';
import { closeRedis, createRedis } from '../shared/src/redis/index.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { closedLoopAddBulks, type BulkLoadResult } from './lib/add-bulk-load.js';
import { startBareServer, BARE_PATH, type BareServer } from './lib/bare-server.js';
import { MINIMAL_PATH, startMinimalEnqueueServer, type MinimalServer } from './lib/minimal-enqueue-server.js';
import { killLoadGenerators, runLoad, type LoadResult, type LoadSpec } from './lib/http-load.js';
import { closedLoopAdds, type AddLoadResult } from './lib/queue-add-load.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { fmtInt, fmtMs, fmtPct, percentile } from './lib/stats.js';
import { envInt } from './lib/bench-env.js';
import { runBench } from './lib/run-bench.js';


const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const SECONDS = envInt('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envInt('BENCH_WARMUP_SECONDS', 2, 0);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS || '10,100').split(',').map((c) => {
  const n = Number(c.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_CONNECTIONS: bad value "${c}"`);
  return n;
});
const IN_FLIGHT = envInt('BENCH_IN_FLIGHT', 100);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'info';
const HOST = '127.0.0.1';
const HANDLER = 'echo';
const PAYLOAD = { message: 'hi' };
const BODY = JSON.stringify({ handler: HANDLER, payload: PAYLOAD });
const CPU_REPS = envInt('BENCH_CPU_REPS', 3);
const BATCH_SIZE = envInt('BENCH_BATCH_SIZE', 100);
const BATCH_CONNECTIONS = envInt('BENCH_BATCH_CONNECTIONS', 10);
const BATCH_BODY = JSON.stringify({ jobs: Array.from({ length: BATCH_SIZE }, () => ({ handler: HANDLER, payload: PAYLOAD })) });
const REFERENCE_THROUGHPUT_RATIO = 0.5; // enqueue / bare at the highest connection count: printed for reference, no longer a target
const TARGET_CPU_RATIO = 1.5; // enqueue / minimal server CPU per request at the highest connection count
const TARGET_BATCH_RATIO = 0.6; // batch route jobs/s / in-process addBulk jobs/s
const TARGET_P99_MS = 10; // enqueue p99 at the lowest connection count

const prefix = `benchhttp-${process.pid}-${Date.now().toString(36)}`;
const QUEUE_NAME = 'jobs';
const admin = new Redis(REDIS_URL);
const logSink = pino.destination('/dev/null'); // sync, like pino's default stdout destination

const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const pad = (text: string, width: number) => text.padStart(width);
/** Version of an installed (hoisted) package; some, like hono, do not export their package.json. */
const version = (pkg: string) => {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src', 'services/api/src').split('\n').filter(Boolean).length;
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in shared/src, services/api/src` : ', shared/src and services/api/src clean'}`;
  } catch {
    return 'git state unknown';
  }
}

/** Redis server CPU seconds (user + sys) so far: all clients of that Redis, not only ours. */
async function redisCpuSeconds(): Promise<number> {
  const info = await admin.info('cpu');
  const read = (field: string) => Number(new RegExp(`${field}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return read('used_cpu_user') + read('used_cpu_sys');
}

async function header(): Promise<void> {
  const info = await admin.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  console.log('# Enqueue over HTTP: POST /api/admin/job vs a minimal JSON.parse + queue.add route vs a bare Hono route vs in-process queue.add; POST /api/admin/job/batch vs in-process addBulk');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}) | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`redis ${redisVersion} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')} (same machine) | bullmq ${version('bullmq')} | hono ${version('hono')} | @hono/node-server ${version('@hono/node-server')} | @hono/zod-openapi ${version('@hono/zod-openapi')} | autocannon ${version('autocannon')}`);
  console.log(`code: ${gitState()}`);
  console.log('load generator: autocannon programmatic API in a SEPARATE forked child process (bench/lib/autocannon-child.ts), one thread;');
  console.log('  the API, the bare server and the queue.add loop run in this process; Redis is local. All of them share the CPUs above.');
  console.log(`request: POST ${BODY} (content-type application/json), keep-alive, no pipelining; the minimal route adds it to queue 'minimal' (same prefix and job options)`);
  console.log(`batch: POST /api/admin/job/batch of ${BATCH_SIZE} × ${JSON.stringify({ handler: HANDLER, payload: PAYLOAD })} (${fmtInt(BATCH_BODY.length)} bytes) at ${BATCH_CONNECTIONS} connections; in-process addBulk of ${BATCH_SIZE}, ${BATCH_CONNECTIONS} in flight`);
  console.log(`runs: ${SECONDS} s measured each, after ${WARMUP_SECONDS} s unreported warm-up at the same concurrency; connections ${CONNECTIONS.join(', ')}`);
  console.log(`API: startApiService, APP_ENV=local (auth open), QUEUE_PREFIX=${prefix}; logger at ${LOG_LEVEL} → /dev/null (info = one access-log line per request)`);
  console.log('latency: autocannon measures whole ms (HDR histogram, 2xx only); queue.add latency is sub-ms (performance.now).\n');
}

const requestSpec = (url: string, connections: number, body = BODY): LoadSpec => ({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  connections,
  seconds: SECONDS,
  warmupSeconds: WARMUP_SECONDS,
});

interface HttpRun extends LoadResult {
  target: 'bare' | 'minimal' | 'enqueue' | 'batch';
  connections: number;
  redisCpuUs: number;
}

async function httpRun(target: HttpRun['target'], url: string, connections: number, body = BODY): Promise<HttpRun> {
  let redisBefore: Promise<number> = Promise.resolve(Number.NaN);
  const result = await runLoad(requestSpec(url, connections, body), () => {
    redisBefore = redisCpuSeconds(); // INFO cpu right when the measured part starts
  });
  const redisCpuUs = ((await redisCpuSeconds()) - (await redisBefore)) * 1e6;
  const run = { ...result, target, connections, redisCpuUs };
  const rps = run.requests / run.seconds;
  progress(`${target} c=${connections}: ${fmtInt(rps)} req/s${target === 'batch' ? ` (${fmtInt(rps * BATCH_SIZE)} jobs/s)` : ''}, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}`);
  return run;
}

const rps = (r: LoadResult) => r.requests / r.seconds;

function printHttp(runs: HttpRun[]): void {
  console.log(`## HTTP on loopback (autocannon, ${SECONDS} s per run)`);
  console.log(
    `${'target'.padEnd(8)}${pad('conn', 5)}${pad('req/s', 9)}${pad('mean', 8)}${pad('p50', 6)}${pad('p90', 6)}${pad('p99', 6)}${pad('p99.9', 7)}${pad('max', 6)}` +
      `${pad('2xx', 9)}${pad('non2xx', 8)}${pad('errors', 8)}${pad('t/o', 5)}${pad('server µs/req', 15)}${pad('server ELU', 12)}${pad('redis µs/req', 14)}${pad('loadgen µs/req', 16)}`,
  );
  for (const r of runs) {
    const n = Math.max(1, r.requests);
    console.log(
      `${r.target.padEnd(8)}${pad(String(r.connections), 5)}${pad(fmtInt(rps(r)), 9)}${pad(r.latency.mean.toFixed(2), 8)}${pad(String(r.latency.p50), 6)}${pad(String(r.latency.p90), 6)}` +
        `${pad(String(r.latency.p99), 6)}${pad(String(r.latency.p99_9), 7)}${pad(String(r.latency.max), 6)}${pad(fmtInt(r.status2xx), 9)}${pad(fmtInt(r.non2xx), 8)}${pad(fmtInt(r.errors), 8)}` +
        `${pad(fmtInt(r.timeouts), 5)}${pad((r.serverCpuUs / n).toFixed(1), 15)}${pad(fmtPct(r.serverElu), 12)}${pad((r.redisCpuUs / n).toFixed(1), 14)}${pad((r.loadGenCpuUs / n).toFixed(1), 16)}`,
    );
  }
  console.log('   latency columns in ms. server µs/req = CPU of this process (API or bare server) per request; ELU = its event-loop');
  console.log('   utilisation (100% = saturated); redis µs/req = Redis server CPU per request (whole server); loadgen = autocannon child.');
  const codes = runs.map((r) => `${r.target}@${r.connections}: ${Object.entries(r.statusCodes).map(([c, n]) => `${c}×${fmtInt(n)}`).join(' ')}` + (r.resets || r.mismatches ? ` resets ${r.resets} mismatches ${r.mismatches}` : ''));
  console.log(`   status codes (measured part): ${codes.join(' | ')}`);
  const warm = runs.map((r) => `${r.target}@${r.connections}: ${fmtInt(r.warmup?.status2xx ?? 0)} 2xx, ${fmtInt((r.warmup?.non2xx ?? 0) + (r.warmup?.errors ?? 0) + (r.warmup?.timeouts ?? 0))} other`);
  console.log(`   warm-ups: ${warm.join(' | ')}\n`);
}

function printAdds(r: AddLoadResult): void {
  console.log(`## In-process queue.add (same Redis, same prefix/queue, name '${HANDLER}', data {type:'adhoc', payload}, the API's job options)`);
  console.log(`   ${IN_FLIGHT} adds in flight, ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up, one producer connection (producer role)`);
  console.log(`${pad('jobs/s', 9)}${pad('mean', 10)}${pad('p50', 10)}${pad('p99', 10)}${pad('max', 10)}${pad('adds', 10)}${pad('errors', 8)}${pad('CPU µs/add', 12)}`);
  const lat = r.latenciesMs;
  const mean = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
  const max = lat.reduce((a, b) => Math.max(a, b), 0); // not Math.max(...lat): too many arguments
  console.log(
    `${pad(fmtInt(r.jobsPerSec), 9)}${pad(fmtMs(mean), 10)}${pad(fmtMs(percentile(lat, 50)), 10)}${pad(fmtMs(percentile(lat, 99)), 10)}${pad(fmtMs(max), 10)}` +
      `${pad(fmtInt(r.adds), 10)}${pad(fmtInt(r.errors), 8)}${pad(r.cpuUsPerAdd.toFixed(1), 12)}`,
  );
  if (r.firstError) console.log(`   first error: ${r.firstError}`);
  console.log();
}

function printBulk(batchRun: HttpRun | undefined, bulk: BulkLoadResult): void {
  console.log(`## Batches of ${BATCH_SIZE}: POST /api/admin/job/batch (${BATCH_CONNECTIONS} connections) vs in-process queue.addBulk (${BATCH_CONNECTIONS} in flight)`);
  console.log(`${'side'.padEnd(22)}${pad('jobs/s', 9)}${pad('batches/s', 11)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('CPU µs/job', 12)}${pad('redis µs/job', 14)}`);
  if (batchRun) {
    const jobs = Math.max(1, batchRun.status2xx * BATCH_SIZE);
    console.log(
      `${'HTTP batch route'.padEnd(22)}${pad(fmtInt(rps(batchRun) * BATCH_SIZE), 9)}${pad(fmtInt(rps(batchRun)), 11)}${pad(String(batchRun.latency.p50), 9)}${pad(String(batchRun.latency.p99), 9)}` +
        `${pad((batchRun.serverCpuUs / jobs).toFixed(1), 12)}${pad((batchRun.redisCpuUs / jobs).toFixed(1), 14)}`,
    );
  }
  const lat = bulk.latenciesMs;
  console.log(
    `${'in-process addBulk'.padEnd(22)}${pad(fmtInt(bulk.jobsPerSec), 9)}${pad(fmtInt(bulk.calls / bulk.seconds), 11)}${pad(percentile(lat, 50).toFixed(1), 9)}${pad(percentile(lat, 99).toFixed(1), 9)}` +
      `${pad(bulk.cpuUsPerJob.toFixed(1), 12)}${pad('', 14)}`,
  );
  if (bulk.firstError) console.log(`   first error: ${bulk.firstError}`);
  console.log('   CPU µs/job = this process (the API, or the addBulk loop) per job; the HTTP route adds one transaction (MULTI/EXEC) per queue,');
  console.log('   addBulk a plain pipeline. HTTP latency whole ms.\n');
}

function printVerdicts(runs: HttpRun[], adds: AddLoadResult, bulk: BulkLoadResult, queued: { expected: number; found: number; slack: number }): void {
  const find = (target: HttpRun['target'], c: number) => runs.find((r) => r.target === target && r.connections === c);
  const hi = Math.max(...CONNECTIONS);
  const lo = Math.min(...CONNECTIONS);
  const cpuPerReq = (r: HttpRun) => r.serverCpuUs / Math.max(1, r.requests);
  console.log('## Ratios');
  for (const c of CONNECTIONS) {
    const e = find('enqueue', c);
    const b = find('bare', c);
    const m = find('minimal', c);
    if (e && m) console.log(`   enqueue / minimal server CPU per request at ${c} connections: ${fmtPct(cpuPerReq(e) / cpuPerReq(m))} (${cpuPerReq(e).toFixed(1)} / ${cpuPerReq(m).toFixed(1)} µs); throughput ${fmtPct(rps(e) / rps(m))}`);
    if (e && b) console.log(`   enqueue / bare throughput at ${c} connections: ${fmtPct(rps(e) / rps(b))} (${fmtInt(rps(e))} / ${fmtInt(rps(b))} req/s)  [reference]`);
  }
  const eHi = find('enqueue', hi);
  const bHi = find('bare', hi);
  const mHi = find('minimal', hi);
  const eLo = find('enqueue', lo);
  const batchRun = runs.find((r) => r.target === 'batch');
  if (eHi) console.log(`   enqueue at ${hi} connections / in-process queue.add (${IN_FLIGHT} in flight): ${fmtPct(rps(eHi) / adds.jobsPerSec)} (${fmtInt(rps(eHi))} / ${fmtInt(adds.jobsPerSec)} jobs/s)`);
  const queuedOk = queued.found >= queued.expected && queued.found <= queued.expected + queued.slack;
  console.log(
    `   jobs in the API's queue after the HTTP runs: ${fmtInt(queued.found)}; from 2xx counted incl. warm-ups and probes: ${fmtInt(queued.expected)}; ` +
      `+${fmtInt(queued.found - queued.expected)} = requests in flight when autocannon stopped (at most ${fmtInt(queued.slack)})${queuedOk ? '' : '  MISMATCH'}`,
  );
  const failures = runs.filter((r) => r.non2xx + r.errors + r.timeouts > 0 || (r.warmup && r.warmup.non2xx + r.warmup.errors + r.warmup.timeouts > 0));
  const loopErrors = adds.errors + bulk.errors;
  console.log(`   non-2xx / errors / timeouts: ${failures.length === 0 && loopErrors === 0 ? 'none in any run (warm-ups included)' : `${failures.map((r) => `${r.target}@${r.connections}`).join(', ')}${loopErrors ? `, in-process ${loopErrors} errors` : ''}`}`);
  console.log();
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log('## Targets');
  if (batchRun) {
    const ratio = (rps(batchRun) * BATCH_SIZE) / bulk.jobsPerSec;
    console.log(`  ${verdict(ratio >= TARGET_BATCH_RATIO && batchRun.status2xx > 0)}  batch of ${BATCH_SIZE} over HTTP: ${fmtPct(ratio)} of in-process addBulk jobs/s (${fmtInt(rps(batchRun) * BATCH_SIZE)} / ${fmtInt(bulk.jobsPerSec)}; target ≥ ${fmtPct(TARGET_BATCH_RATIO)})`);
  }
  if (eHi && mHi) {
    const median = (target: HttpRun['target']) => percentile(runs.filter((r) => r.target === target && r.connections === hi).map(cpuPerReq), 50);
    const reps = runs.filter((r) => r.target === 'enqueue' && r.connections === hi).length;
    const ratio = median('enqueue') / median('minimal');
    console.log(
      `  ${verdict(ratio <= TARGET_CPU_RATIO && eHi.status2xx > 0)}  single enqueue server CPU per request at ${hi} connections: ${ratio.toFixed(2)}× the minimal JSON.parse + queue.add route ` +
        `(median of ${reps} alternating runs each: ${median('enqueue').toFixed(1)} / ${median('minimal').toFixed(1)} µs; target ≤ ${TARGET_CPU_RATIO}×)`,
    );
  }
  if (eLo) {
    console.log(`  ${verdict(eLo.latency.p99 < TARGET_P99_MS && eLo.status2xx > 0)}  enqueue p99 at ${lo} connections: ${eLo.latency.p99} ms (target < ${TARGET_P99_MS} ms; whole-ms resolution)`);
  }
  const clean = failures.length === 0 && loopErrors === 0 && queuedOk;
  console.log(`  ${verdict(clean)}  no 5xx, non-2xx, errors or timeouts; every 2xx enqueue is in the queue`);
  if (eHi && bHi) {
    const ratio = rps(eHi) / rps(bHi);
    console.log(`  (reference, no longer a target: enqueue throughput at ${hi} connections is ${fmtPct(ratio)} of the bare route; the old target was ≥ ${fmtPct(REFERENCE_THROUGHPUT_RATIO)})`);
  }
  console.log(`  (load avg at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}: other work on this ${os.cpus().length}-CPU machine slows every run; server µs/req is the steadier figure)`);
}

let db: TestDatabase | undefined;
let api: ApiService | undefined;
let bare: BareServer | undefined;
let minimal: MinimalServer | undefined;
let minimalQueue: Queue | undefined;
let addQueue: Queue | undefined;
let addConnection: Redis | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops servers, closes clients, deletes every key under the prefix, drops the schema. First call does it. */
const cleanup = () => (cleaning ??= cleanupOnce());

async function cleanupOnce(): Promise<void> {
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  killLoadGenerators();
  await step('bare server', async () => bare?.close());
  await step('minimal server', async () => minimal?.close());
  await step('minimal queue', async () => {
    const connection = minimalQueue?.opts.connection as Redis | undefined;
    await minimalQueue?.close();
    if (connection) await closeRedis(connection);
  });
  await step('api', async () => api?.close());
  await step('queue', async () => addQueue?.close());
  await step('redis', async () => addConnection && closeRedis(addConnection));
  let deleted = 0;
  await step('keys', async () => (deleted = await deleteKeysUnder(admin, prefix)));
  const left = await admin.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 1000).then(([, keys]) => keys.length, () => -1);
  await step('schema', async () => db?.close());
  await step('admin', async () => admin.quit());
  logSink.end();
  console.log(`\ncleanup: servers stopped, deleted ${fmtInt(deleted)} keys under ${prefix}:* (left in first scan page: ${left}), dropped schema ${db?.schema ?? '(none)'}`);
}

process.once('SIGINT', () => {
  interrupted = true;
  console.error('\ninterrupted: cleaning up…');
  void cleanup().finally(() => process.exit(130));
});

await runBench(
  async () => {
    await header();
    db = await createTestDatabase();
    const config = loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: prefix, QUEUE_NAME, LOG_LEVEL: 'warn', REDIS_URL, DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
    const log = createLogger({ level: LOG_LEVEL, destination: logSink });
    api = await startApiService(config, log, { db: db.db, port: 0, host: HOST });
    bare = await startBareServer(HOST);
    const jobOptions = toBullJobOptions(HANDLER, jobHandlers.echo, {});
    // The minimal route's queue: its own Queue on its own producer connection, as the API has.
    minimalQueue = new Queue('minimal', { connection: createRedis(REDIS_URL, 'producer'), prefix });
    minimalQueue.on('error', () => {});
    await minimalQueue.waitUntilReady();
    minimal = await startMinimalEnqueueServer(HOST, minimalQueue, jobOptions);
    const enqueueUrl = `http://${HOST}:${api.port}/api/admin/job`;
    const batchUrl = `http://${HOST}:${api.port}/api/admin/job/batch`;
    const bareUrl = `http://${HOST}:${bare.port}${BARE_PATH}`;
    const minimalUrl = `http://${HOST}:${minimal.port}${MINIMAL_PATH}`;

    // Sanity: one request each must answer as expected before loading them.
    const post = (url: string, body = BODY) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const probe = await post(enqueueUrl);
    if (probe.status !== 201) throw new Error(`probe enqueue answered ${probe.status}: ${await probe.text()}`);
    const batchProbe = await post(batchUrl, BATCH_BODY);
    if (batchProbe.status !== 201) throw new Error(`probe batch answered ${batchProbe.status}: ${(await batchProbe.text()).slice(0, 500)}`);
    const bareProbe = await post(bareUrl);
    if (bareProbe.status !== 200 || (await bareProbe.text()) !== '{}') throw new Error(`probe bare answered ${bareProbe.status}`);
    const minimalProbe = await post(minimalUrl);
    if (minimalProbe.status !== 201) throw new Error(`probe minimal answered ${minimalProbe.status}: ${await minimalProbe.text()}`);

    const runs: HttpRun[] = [];
    for (const connections of CONNECTIONS) {
      runs.push(await httpRun('bare', bareUrl, connections));
      runs.push(await httpRun('minimal', minimalUrl, connections));
      runs.push(await httpRun('enqueue', enqueueUrl, connections));
    }
    // More alternating pairs at the highest connection count for the CPU comparison.
    for (let rep = 1; rep < CPU_REPS; rep++) {
      runs.push(await httpRun('minimal', minimalUrl, Math.max(...CONNECTIONS)));
      runs.push(await httpRun('enqueue', enqueueUrl, Math.max(...CONNECTIONS)));
    }
    runs.push(await httpRun('batch', batchUrl, BATCH_CONNECTIONS, BATCH_BODY));
    // autocannon stops counting at the deadline: requests still in flight then (≤ 1 per connection,
    // per warm-up and measured run) are enqueued but not counted. Probes: 1 job + 1 batch.
    const apiRuns = runs.filter((r) => r.target === 'enqueue' || r.target === 'batch');
    const jobsPer = (r: HttpRun) => (r.target === 'batch' ? BATCH_SIZE : 1);
    const expected = 1 + BATCH_SIZE + apiRuns.reduce((sum, r) => sum + (r.status2xx + (r.warmup?.status2xx ?? 0)) * jobsPer(r), 0);
    const inFlightSlack = apiRuns.reduce((sum, r) => sum + r.connections * (r.warmup ? 2 : 1) * jobsPer(r), 0);
    const found = await admin.llen(`${prefix}:${QUEUE_NAME}:wait`);

    addConnection = createRedis(REDIS_URL, 'producer');
    addQueue = new Queue(QUEUE_NAME, { connection: addConnection, prefix });
    addQueue.on('error', () => {});
    await addQueue.waitUntilReady();
    const job = { name: HANDLER, data: makeEnvelope(PAYLOAD), opts: jobOptions };
    if (WARMUP_SECONDS > 0) await closedLoopAdds(addQueue, job, IN_FLIGHT, WARMUP_SECONDS);
    const adds = await closedLoopAdds(addQueue, job, IN_FLIGHT, SECONDS);
    progress(`queue.add ${IN_FLIGHT} in flight: ${fmtInt(adds.jobsPerSec)} jobs/s, p50 ${fmtMs(percentile(adds.latenciesMs, 50))}, p99 ${fmtMs(percentile(adds.latenciesMs, 99))}`);
    if (WARMUP_SECONDS > 0) await closedLoopAddBulks(addQueue, job, BATCH_SIZE, BATCH_CONNECTIONS, WARMUP_SECONDS);
    const bulk = await closedLoopAddBulks(addQueue, job, BATCH_SIZE, BATCH_CONNECTIONS, SECONDS);
    progress(`queue.addBulk of ${BATCH_SIZE}, ${BATCH_CONNECTIONS} in flight: ${fmtInt(bulk.jobsPerSec)} jobs/s, p50 ${fmtMs(percentile(bulk.latenciesMs, 50))}, p99 ${fmtMs(percentile(bulk.latenciesMs, 99))}`);

    printHttp(runs);
    printAdds(adds);
    printBulk(runs.find((r) => r.target === 'batch'), bulk);
    printVerdicts(runs, adds, bulk, { expected, found, slack: inFlightSlack });
  },
  { cleanup: cleanup, interrupted: () => interrupted },
);
