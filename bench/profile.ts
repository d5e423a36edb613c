/**
 * CPU profiles of the two hottest paths, taken with `node --cpu-prof` on the compiled services'
 * code, and the Redis cost of an add. Not a benchmark with targets: the figures behind
 * docs/performance.md.
 *
 *   npx tsx --conditions=development bench/profile.ts            # all three parts
 *   npx tsx --conditions=development bench/profile.ts enqueue    # or: worker, adds, batching
 *
 * - enqueue: `node --cpu-prof services/api/dist/main.js` (NODE_ENV=production; APP_ENV=production
 *   with an HS256 bearer token, and APP_ENV=local without auth, as bench/enqueue-http runs it),
 *   logs at info → /dev/null (and local at warn: no access line), under autocannon (forked child, bench/lib/autocannon-child.ts) at
 *   PROFILE_CONNECTIONS (100) for PROFILE_SECONDS (15) after a 3 s warm-up.
 * - worker: bench/lib/profile-worker-child.ts forked with `--cpu-prof`, draining PROFILE_JOBS
 *   (20000) pre-filled no-op jobs at concurrency PROFILE_CONCURRENCY (10): the library's
 *   createWorker (compiled dist/) and a raw BullMQ Worker, PROFILE_REPS (3) runs each, alternating.
 * - adds: what one add costs Redis and the client: `queue.add` with 1 and 100 in flight, with
 *   ioredis auto-pipelining, and `addBulk` batches, min(PROFILE_SECONDS, 10) s each.
 * - batching: a minimal Hono enqueue route with queue.add per request vs ioredis auto-pipelining
 *   vs adds batched per event-loop turn into addBulk, at 10 and 100 connections.
 * Every part runs against a private redis-server (scripts/lib/private-redis.ts, as `npm start` uses), so Redis
 * CPU per operation is this work's alone; Postgres is the test database (private schema).
 * Profiles are cut to the measured window (V8 and process.hrtime share CLOCK_MONOTONIC) and saved
 * under bench/out/profiles/ (open them in Chrome DevTools or speedscope).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import { Redis } from 'ioredis';
import { jobHandlers } from '../shared/src/index.js';
import { makeEnvelope, toBullJobOptions } from '../shared/src/jobs/index.js';
import { closeRedis, createRedis } from '../shared/src/redis/index.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { freePort } from '../scripts/lib/free-port.js';
import { buildProduction } from '../test/deploy/lib/deployment.js';
import { databaseUrlFor } from '../test/deploy/lib/service-process.js';
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { killLoadGenerators, runLoad } from './lib/http-load.js';
import type { WorkerChildReport } from './lib/profile-worker-child.js';
import { startPrivateRedis, type PrivateRedis } from '../scripts/lib/private-redis.js';
import { fillQueue } from './lib/sides.js';
import { fmtInt, fmtPct } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench/out/profiles');
const envInt = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = envInt('PROFILE_SECONDS', 15);
const CONNECTIONS = envInt('PROFILE_CONNECTIONS', 100);
const JOBS = envInt('PROFILE_JOBS', 20_000);
const CONCURRENCY = envInt('PROFILE_CONCURRENCY', 10);
const INTERVAL_US = envInt('PROFILE_INTERVAL_US', 250);
const REPS = envInt('PROFILE_REPS', 3);
const BODY = JSON.stringify({ handler: 'echo', payload: { message: 'hi' } });
const pad = (s: string, n: number) => s.padStart(n);
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);

// ---------------------------------------------------------------------------------------------

/** The samples of `p` between two CLOCK_MONOTONIC instants (µs). */
function sliceProfile(p: CpuProfile, fromUs: number, toUs: number): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = p.startTime;
  let last = fromUs;
  const all = p.samples ?? [];
  for (let i = 0; i < all.length; i++) {
    t += p.timeDeltas?.[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    samples.push(all[i]!);
    timeDeltas.push(t - last);
    last = t;
  }
  timeDeltas.push(toUs - last); // the last kept sample lasts until the window ends
  return { nodes: p.nodes, startTime: fromUs, endTime: toUs, samples, timeDeltas };
}

const INCLUSIVE = [
  // HTTP in and out
  'parserOnHeadersComplete@_http_common',
  'getRequestListener@node-server',
  'writeHead@_http_server',
  'end@_http_outgoing',
  // Hono app, middleware, validation, auth
  'dispatch@hono',
  'jsonBody@json-body',
  'jwtVerify@jose',
  'safeParseAsync@zod',
  'json@hono',
  // enqueue
  'enqueueJob@job-client',
  'addJob@bullmq',
  'sendCommand@ioredis',
  'write@pino',
  // the worker loop
  'processJob@processor',
  'runJob@run-job',
  'moveToActive@bullmq',
  'moveToFinished@bullmq',
  'processJob@worker.js',
  'record@metrics',
  'onData@ioredis',
  'execCommand@bullmq',
];

/** Sums summaries of several runs of the same code (ms per category, function, inclusive entry). */
function mergeSummaries(all: ProfileSummary[]): ProfileSummary {
  const sum = (pick: (s: ProfileSummary) => [string, number][]) => {
    const m = new Map<string, number>();
    for (const s of all) for (const [k, ms] of pick(s)) m.set(k, (m.get(k) ?? 0) + ms);
    return [...m].sort((a, b) => b[1] - a[1]);
  };
  return {
    totalMs: all.reduce((n, s) => n + s.totalMs, 0),
    categories: sum((s) => s.categories),
    functions: sum((s) => s.functions),
    inclusive: Object.fromEntries(sum((s) => Object.entries(s.inclusive))),
  };
}

function printSummary(label: string, s: ProfileSummary, samples: number, ops: number, unit: string): void {
  const idle = s.categories.find(([k]) => k.startsWith('idle'))?.[1] ?? 0;
  const busy = s.totalMs - idle;
  const row = (ms: number, name: string) => console.log(`   ${pad(fmtPct(ms / busy), 6)} ${pad(((ms * 1000) / ops).toFixed(1), 7)} µs/${unit}  ${name}`);
  console.log(`### ${label}`);
  console.log(`   window ${fmtInt(s.totalMs)} ms, ${fmtInt(samples)} samples (every ${INTERVAL_US} µs); not idle ${fmtInt(busy)} ms = ${((busy * 1000) / ops).toFixed(1)} µs per ${unit} (${fmtInt(ops)} ${unit}s);`);
  console.log(`   idle ${fmtPct(idle / s.totalMs)} of the window. Shares below are of the not-idle time.`);
  console.log('   Self time by package (a native frame is charged to its JS caller\'s package):');
  for (const [k, ms] of s.categories.filter(([k]) => !k.startsWith('idle')).slice(0, 16)) row(ms, k);
  console.log('   Inclusive (function + what it ran synchronously; async continuations not included; 0 rows omitted):');
  for (const [k, ms] of Object.entries(s.inclusive).filter(([, ms]) => ms > 0)) row(ms, k);
  console.log('   Top functions by self time:');
  for (const [k, ms] of s.functions.filter(([k]) => !k.startsWith('(idle)')).slice(0, 30)) row(ms, k);
  console.log();
}

function printProfile(label: string, profile: CpuProfile, ops: number, unit: string): void {
  printSummary(label, summarizeCpuProfile(profile, INCLUSIVE), profile.samples?.length ?? 0, ops, unit);
}

/** utime + stime of a process from /proc/<pid>/stat, µs. */
function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of stat(5)
  return (ticks * 1e6) / 100; // CLK_TCK is 100 on Linux
}

async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (f: string) => Number(new RegExp(`${f}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_(\S+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

/** `--cpu-prof` flags writing into a fresh folder of its own (every thread writes a profile there). */
function cpuProfFlags(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${INTERVAL_US}`];
}

/**
 * The main thread's profile from `dir` (Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>;
 * thread 0 is the main thread; tsx's loader thread writes one too), moved to `OUT/name`.
 */
function mainThreadProfile(dir: string, name: string): CpuProfile {
  const file = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) throw new Error(`no main-thread profile in ${dir}: ${readdirSync(dir).join(', ')}`);
  renameSync(join(dir, file), join(OUT, name));
  rmSync(dir, { recursive: true, force: true });
  return JSON.parse(readFileSync(join(OUT, name), 'utf8')) as CpuProfile;
}

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

// ---------------------------------------------------------------------------------------------

async function profileEnqueue(redisServer: PrivateRedis, db: TestDatabase, auth: boolean, logLevel: 'info' | 'warn', stamp: string): Promise<void> {
  const label = `${auth ? 'production' : 'local'}${logLevel === 'info' ? '' : `-${logLevel}`}`;
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const prefix = `prof-${label}-${stamp}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const devnull = openSync('/dev/null', 'w');
  const name = `enqueue-${label}-${stamp}.cpuprofile`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    APP_ENV: auth ? 'production' : 'local',
    LOG_LEVEL: logLevel,
    PORT: String(port),
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: databaseUrlFor(db.schema),
    WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
    ...(auth ? { AUTH_JWT_SECRET: secret } : {}),
  };
  const profDir = join(OUT, `tmp-${name}`);
  const api: ChildProcess = spawn(process.execPath, [...cpuProfFlags(profDir), 'services/api/dist/main.js'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', devnull, 'pipe'],
  });
  closeSync(devnull);
  let stderr = '';
  api.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => api.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    while ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status !== 200) {
      if (api.exitCode !== null || Date.now() > deadline) throw new Error(`api did not start:\n${stderr}`);
      await sleep(100);
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth) {
      const token = await new SignJWT({ scope: 'jobs:admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('bench').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
      headers.authorization = `Bearer ${token}`;
    }
    const url = `http://127.0.0.1:${port}/api/admin/job`;
    const probe = await fetch(url, { method: 'POST', headers, body: BODY });
    if (probe.status !== 201) throw new Error(`probe answered ${probe.status}: ${await probe.text()}`);
    const admin = new Redis(redisServer.url);
    let from = 0;
    let apiCpu0 = 0;
    let redisCpu0: Promise<number> = Promise.resolve(Number.NaN);
    progress(`enqueue (${label}): ${CONNECTIONS} connections, ${SECONDS} s after 3 s warm-up`);
    const load = await runLoad({ url, method: 'POST', headers, body: BODY, connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: 3 }, () => {
      from = hrUs();
      apiCpu0 = procCpuUs(api.pid!);
      redisCpu0 = redisCpuUs(admin);
    });
    const to = hrUs();
    const apiCpu = procCpuUs(api.pid!) - apiCpu0;
    const redisCpu = (await redisCpuUs(admin)) - (await redisCpu0);
    await admin.quit();
    api.kill('SIGTERM');
    await exited;
    const n = load.requests;
    const profile = sliceProfile(mainThreadProfile(profDir, name), from, to);
    console.log(
      `## HTTP enqueue, APP_ENV=${auth ? 'production' : 'local'}${auth ? ' (HS256 bearer token verified per request)' : ' (auth open, as bench/enqueue-http)'}, LOG_LEVEL=${logLevel}${logLevel === 'info' ? ' (one access line per request)' : ' (no access line)'}: POST /api/admin/job`,
    );
    console.log(
      `   ${fmtInt(n / load.seconds)} req/s at ${CONNECTIONS} connections (${fmtInt(load.status2xx)} 2xx, ${load.non2xx} non-2xx, ${load.errors} errors), p50 ${load.latency.p50} ms p99 ${load.latency.p99} ms`,
    );
    console.log(
      `   CPU per request: API process ${(apiCpu / n).toFixed(1)} µs (all threads, /proc) | redis-server ${(redisCpu / n).toFixed(1)} µs | autocannon ${(load.loadGenCpuUs / n).toFixed(1)} µs` +
        ` | sum ${((apiCpu + redisCpu + load.loadGenCpuUs) / n).toFixed(1)} µs; cores busy: API ${(apiCpu / 1e6 / load.seconds).toFixed(2)}, redis ${(redisCpu / 1e6 / load.seconds).toFixed(2)}, autocannon ${(load.loadGenCpuUs / 1e6 / load.seconds).toFixed(2)}`,
    );
    console.log(`   profile: bench/out/profiles/${name} (whole process life; the summary below is the measured window only)`);
    printProfile(`API main thread, ${label}`, profile, n, 'req');
  } finally {
    killLoadGenerators();
    if (api.exitCode === null) api.kill('SIGKILL');
  }
}

interface WorkerRun {
  jobsPerSec: number;
  cpuUsPerJob: number;
  redisUsPerJob: number;
  /** EVALSHA calls per job, and every Redis call per job (incl. those inside scripts), INFO commandstats. */
  scriptsPerJob: number;
  callsPerJob: number;
  summary: ProfileSummary;
  samples: number;
}

async function profileWorker(redisServer: PrivateRedis, side: 'lib' | 'raw', stamp: string, rep: number): Promise<WorkerRun> {
  const prefix = `prof-w${side}-${stamp}-${rep}`;
  const producer = new Redis(redisServer.url);
  const queue = new Queue('jobs', { connection: producer, prefix });
  const name = `worker-${side}-c${CONCURRENCY}-${stamp}-${rep}.cpuprofile`;
  const profDir = join(OUT, `tmp-${name}`);
  try {
    await fillQueue(queue, JOBS);
    const redisCpu0 = await redisCpuUs(producer);
    const stats0 = await commandStats(producer);
    const child = fork(fileURLToPath(new URL('./lib/profile-worker-child.ts', import.meta.url)), [], {
      execArgv: [...cpuProfFlags(profDir), '--import', 'tsx'],
      env: { ...process.env, NODE_ENV: 'production', PROFILE_REDIS_URL: redisServer.url, PROFILE_PREFIX: prefix, PROFILE_SIDE: side, PROFILE_CONCURRENCY: String(CONCURRENCY), PROFILE_JOBS: String(JOBS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const report = await new Promise<WorkerChildReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as WorkerChildReport));
      child.once('exit', (code) => reject(new Error(`worker child exited ${code} without a report`)));
    });
    const redisCpu = (await redisCpuUs(producer)) - redisCpu0;
    const stats1 = await commandStats(producer);
    const delta = (pick: (cmd: string) => boolean) =>
      [...stats1].filter(([cmd]) => pick(cmd) && cmd !== 'info').reduce((n, [cmd, st]) => n + st.calls - (stats0.get(cmd)?.calls ?? 0), 0) / report.jobs;
    await exited;
    const from = Number(BigInt(report.fromNs) / 1000n);
    const to = Number(BigInt(report.toNs) / 1000n);
    const profile = sliceProfile(mainThreadProfile(profDir, name), from, to);
    const run = {
      jobsPerSec: report.jobs / ((to - from) / 1e6),
      cpuUsPerJob: report.cpuUs / report.jobs,
      redisUsPerJob: redisCpu / report.jobs,
      scriptsPerJob: delta((cmd) => cmd.startsWith('evalsha') || cmd === 'eval'),
      callsPerJob: delta(() => true),
      summary: summarizeCpuProfile(profile, INCLUSIVE),
      samples: profile.samples?.length ?? 0,
    };
    progress(`worker ${side} rep ${rep + 1}: ${fmtInt(run.jobsPerSec)} jobs/s, ${run.cpuUsPerJob.toFixed(1)} µs CPU/job, redis ${run.redisUsPerJob.toFixed(1)} µs/job`);
    return run;
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await producer.quit();
  }
}

async function profileWorkers(redisServer: PrivateRedis, stamp: string): Promise<void> {
  const runs: Record<'lib' | 'raw', WorkerRun[]> = { lib: [], raw: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const side of rep % 2 === 0 ? (['lib', 'raw'] as const) : (['raw', 'lib'] as const)) runs[side].push(await profileWorker(redisServer, side, stamp, rep));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`## Job processing: ${fmtInt(JOBS)} pre-filled no-op jobs, concurrency ${CONCURRENCY}, ${REPS} runs per side (alternating), worker in a child with --cpu-prof`);
  console.log('   lib = createWorker + makeJob (compiled dist/, logger at info → /dev/null, metrics registry, as the worker service); raw = BullMQ Worker, no-op processor.');
  console.log(
    `${'side'.padEnd(6)}${pad('jobs/s (median)', 17)}${pad('worker CPU µs/job', 19)}${pad('redis µs/job', 14)}${pad('scripts/job', 13)}${pad('redis calls/job', 17)}   (medians; worker CPU from process.cpuUsage incl. its startup)`,
  );
  for (const side of ['lib', 'raw'] as const) {
    const r = runs[side];
    const m = (f: (x: WorkerRun) => number, digits: number) => med(r.map(f)).toFixed(digits);
    console.log(
      `${side.padEnd(6)}${pad(fmtInt(med(r.map((x) => x.jobsPerSec))), 17)}${pad(m((x) => x.cpuUsPerJob, 1), 19)}${pad(m((x) => x.redisUsPerJob, 1), 14)}${pad(m((x) => x.scriptsPerJob, 2), 13)}${pad(m((x) => x.callsPerJob, 1), 17)}`,
    );
  }
  console.log(`   profiles: bench/out/profiles/worker-{lib,raw}-c${CONCURRENCY}-${stamp}-<rep>.cpuprofile; the summaries below add up all ${REPS} runs of a side.\n`);
  for (const side of ['lib', 'raw'] as const) {
    const r = runs[side];
    printSummary(`worker main thread, ${side}`, mergeSummaries(r.map((x) => x.summary)), r.reduce((n, x) => n + x.samples, 0), JOBS * r.length, 'job');
  }
}

/**
 * Redis and client CPU per job: `queue.add` (one EVALSHA write per job) with 1 and 100 in flight,
 * the same over an ioredis connection with `enableAutoPipelining` (commands issued in the same
 * tick leave in one write), and `addBulk` (one MULTI/EXEC write per batch).
 */
async function profileAdds(redisServer: PrivateRedis, stamp: string): Promise<void> {
  const admin = new Redis(redisServer.url);
  const plain = createRedis(redisServer.url, 'producer');
  const piped = createRedis(redisServer.url, 'producer', { enableAutoPipelining: true });
  const prefix = `prof-adds-${stamp}`;
  const queues = { plain: new Queue('jobs', { connection: plain, prefix }), piped: new Queue('jobs', { connection: piped, prefix }) };
  await Promise.all([queues.plain.waitUntilReady(), queues.piped.waitUntilReady()]);
  const opts = toBullJobOptions('echo', jobHandlers.echo, {});
  const data = makeEnvelope({ message: 'hi' });
  const seconds = Math.min(SECONDS, 10);
  console.log(`## One add: Redis and client CPU per job (private redis-server, ${seconds} s per variant, the API's job options)`);
  console.log(`${'variant'.padEnd(46)}${pad('jobs/s', 9)}${pad('client µs/job', 15)}${pad('redis µs/job', 14)}${pad('of which Lua', 14)}${pad('redis calls/job', 17)}`);
  const variants: [string, keyof typeof queues, number, number][] = [
    ['queue.add, 1 in flight', 'plain', 1, 1],
    ['queue.add, 100 in flight', 'plain', 1, 100],
    ['queue.add, 100 in flight, enableAutoPipelining', 'piped', 1, 100],
    ['addBulk ×10, 10 batches in flight', 'plain', 10, 10],
    ['addBulk ×50, 2 batches in flight', 'plain', 50, 2],
  ];
  try {
    for (const [label, which, batch, inFlight] of variants) {
      const queue = queues[which];
      await queues.plain.obliterate({ force: true });
      const stats0 = await commandStats(admin);
      const r0 = await redisCpuUs(admin);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const deadline = t0 + seconds * 1000;
      let jobs = 0;
      const loop = async () => {
        while (performance.now() < deadline) {
          if (batch === 1) await queue.add('echo', data, opts);
          else await queue.addBulk(Array.from({ length: batch }, () => ({ name: 'echo', data, opts })));
          jobs += batch;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, loop));
      const wall = (performance.now() - t0) / 1000;
      const { user, system } = process.cpuUsage(c0);
      const redis = (await redisCpuUs(admin)) - r0;
      const stats1 = await commandStats(admin);
      let lua = 0;
      let calls = 0;
      for (const [cmd, s] of stats1) {
        const before = stats0.get(cmd) ?? { calls: 0, usec: 0 };
        if (cmd === 'info') continue;
        if (cmd.startsWith('evalsha') || cmd === 'eval') lua += s.usec - before.usec;
        calls += s.calls - before.calls;
      }
      console.log(
        `${label.padEnd(46)}${pad(fmtInt(jobs / wall), 9)}${pad(((user + system) / jobs).toFixed(1), 15)}${pad((redis / jobs).toFixed(1), 14)}${pad((lua / jobs).toFixed(1), 14)}${pad((calls / jobs).toFixed(1), 17)}`,
      );
    }
    console.log('   client = this process (BullMQ + ioredis), redis = redis-server user+sys (INFO cpu), Lua = commandstats usec of EVALSHA');
    console.log('   (the script itself, incl. the calls it makes); redis calls/job = commandstats calls incl. those inside Lua.\n');
  } finally {
    await queues.plain.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([queues.plain.close(), queues.piped.close()]);
    await Promise.all([closeRedis(plain), closeRedis(piped)]);
    await admin.quit();
  }
}

/**
 * What batching would buy the HTTP path: a minimal Hono app on the same @hono/node-server stack
 * in this process, `POST /enqueue` parsing the body and adding the job (no validation, auth or
 * access log), under autocannon. Variants: `bare` (no add: the floor), `add` (queue.add per
 * request, as the API does), `autopipe` (the same over an ioredis connection with
 * enableAutoPipelining), `batch` (adds collected for one event-loop turn, then one addBulk).
 */
async function profileBatching(redisServer: PrivateRedis, stamp: string): Promise<void> {
  const plain = createRedis(redisServer.url, 'producer');
  const piped = createRedis(redisServer.url, 'producer', { enableAutoPipelining: true });
  const admin = new Redis(redisServer.url);
  const prefix = `prof-batch-${stamp}`;
  const queue = new Queue('jobs', { connection: plain, prefix });
  const pipedQueue = new Queue('jobs', { connection: piped, prefix });
  await Promise.all([queue.waitUntilReady(), pipedQueue.waitUntilReady()]);
  const opts = toBullJobOptions('echo', jobHandlers.echo, {});
  type Pending = { data: unknown; resolve: (id: string) => void; reject: (err: unknown) => void };
  let pending: Pending[] = [];
  const batchSizes: number[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    batchSizes.push(batch.length);
    queue.addBulk(batch.map((p) => ({ name: 'echo', data: p.data, opts }))).then(
      (jobs) => jobs.forEach((job, i) => batch[i]!.resolve(job.id!)),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  };
  const batchedAdd = (data: unknown) =>
    new Promise<string>((resolve, reject) => {
      pending.push({ data, resolve, reject });
      if (pending.length === 1) setImmediate(flush);
    });
  let variant: 'bare' | 'add' | 'autopipe' | 'batch' = 'bare';
  const app = new Hono();
  app.post('/enqueue', async (c) => {
    const body = await c.req.json<{ handler: string; payload: unknown }>();
    if (variant === 'bare') return c.json({ id: '0' }, 201);
    const data = makeEnvelope(body.payload);
    const id = variant === 'batch' ? await batchedAdd(data) : (await (variant === 'add' ? queue : pipedQueue).add('echo', data, opts)).id!;
    return c.json({ id }, 201);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server;
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/enqueue`;
  const seconds = Math.min(SECONDS, 10);
  console.log(`## Batching adds on the HTTP path (minimal Hono app in one process, autocannon child, private redis-server, ${seconds} s per run after 2 s warm-up)`);
  console.log(`${'variant'.padEnd(10)}${pad('conn', 5)}${pad('req/s', 9)}${pad('p50', 5)}${pad('p99', 5)}${pad('server µs/req', 15)}${pad('ELU', 7)}${pad('redis µs/req', 14)}${pad('loadgen µs/req', 16)}${pad('batch mean', 12)}`);
  try {
    for (const connections of [10, 100]) {
      for (const v of ['bare', 'add', 'autopipe', 'batch'] as const) {
        variant = v;
        batchSizes.length = 0;
        let r0: Promise<number> = Promise.resolve(Number.NaN);
        let measuredFrom = 0;
        const load = await runLoad({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, connections, seconds, warmupSeconds: 2 }, () => {
          r0 = redisCpuUs(admin);
          measuredFrom = batchSizes.length;
        });
        const redis = (await redisCpuUs(admin)) - (await r0);
        const n = Math.max(1, load.requests);
        const sizes = batchSizes.slice(measuredFrom);
        const mean = sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : Number.NaN;
        console.log(
          `${v.padEnd(10)}${pad(String(connections), 5)}${pad(fmtInt(n / load.seconds), 9)}${pad(String(load.latency.p50), 5)}${pad(String(load.latency.p99), 5)}${pad((load.serverCpuUs / n).toFixed(1), 15)}` +
            `${pad(fmtPct(load.serverElu), 7)}${pad((redis / n).toFixed(1), 14)}${pad((load.loadGenCpuUs / n).toFixed(1), 16)}${pad(Number.isNaN(mean) ? '' : mean.toFixed(1), 12)}`,
        );
        if (load.non2xx + load.errors > 0) console.log(`   ${v}: ${load.non2xx} non-2xx, ${load.errors} errors`);
        await queue.obliterate({ force: true });
      }
    }
    console.log('   server = this process (Hono + BullMQ + ioredis), redis = redis-server (INFO cpu), loadgen = autocannon child; latency in whole ms.\n');
  } finally {
    killLoadGenerators();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([queue.close(), pipedQueue.close()]);
    await Promise.all([closeRedis(plain), closeRedis(piped), admin.quit()]);
  }
}

// ---------------------------------------------------------------------------------------------

const parts = process.argv.slice(2).filter((a) => a !== '--');
const want = (p: string) => parts.length === 0 || parts.includes(p);
mkdirSync(OUT, { recursive: true });
const stamp = Date.now().toString(36);
console.log(`# Profiles (${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
let redisServer: PrivateRedis | undefined;
let db: TestDatabase | undefined;
try {
  if (want('enqueue') || want('worker')) {
    progress('npx tsc -b');
    await buildProduction();
  }
  redisServer = await startPrivateRedis();
  if (want('enqueue')) {
    db = await createTestDatabase();
    await profileEnqueue(redisServer, db, true, 'info', stamp);
    await profileEnqueue(redisServer, db, false, 'info', stamp);
    await profileEnqueue(redisServer, db, false, 'warn', stamp);
  }
  if (want('worker')) {
    await profileWorkers(redisServer, stamp);
  }
  if (want('adds')) await profileAdds(redisServer, stamp);
  if (want('batching')) await profileBatching(redisServer, stamp);
  console.log(`load avg at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} catch (err) {
  console.error('profile failed:', err);
  process.exitCode = 1;
} finally {
  killLoadGenerators();
  await db?.close();
  await redisServer?.stop();
}
