/**
 * Idle memory of each service: the api, worker and scheduler started from their compiled output
 * exactly as the images run them (`node services/<svc>/dist/main.js`, NODE_ENV=production,
 * APP_ENV=production, nothing else inherited), left idle, and their resident set read from
 * /proc/<pid>/status (VmRSS). A bare `node:http` server is measured the same way, for scale.
 *
 *   npm run bench:idle-rss
 *   BENCH_IDLE_S=3 npm run bench:idle-rss   # quick check
 *
 * Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (postgres://postgres@127.0.0.1:5432/test;
 * a private migrated schema is created and dropped), BENCH_IDLE_S (10: idle time after /healthz
 * answers, before the first reading), BENCH_RSS_SAMPLES (5 readings, 1 s apart; the max is
 * reported), BENCH_BUILD (1: run `npx tsc -b` first; 0 = use dist/ as it is).
 * Linux only (/proc). Exits 0 whatever the target says; every process, key and schema it makes
 * is removed at the end (also on Ctrl-C).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../scripts/lib/free-port.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { buildProduction, root, SERVICES, SERVICE_NAMES, type ServiceName } from '../test/deploy/lib/deployment.js';
import { databaseUrlFor, spawnService, waitHealthy, type ServiceProcess } from '../test/deploy/lib/service-process.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { envInt } from './lib/bench-env.js';
import { runBench } from './lib/run-bench.js';


const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const IDLE_S = envInt('BENCH_IDLE_S', 10);
const SAMPLES = Math.max(1, envInt('BENCH_RSS_SAMPLES', 5));
const BUILD = process.env.BENCH_BUILD !== '0';
const TARGET_MB = 150;
const MB = 1024 * 1024;

const prefix = `benchrss-${process.pid}-${Date.now().toString(36)}`;
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const pad = (text: string, width: number) => text.padStart(width);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const loadAvg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** VmRSS / VmHWM of a process, in bytes (/proc reports kB). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** A sample of prom-client's default process metrics from `/metrics` (bytes), when the service exports them. */
async function heapFromMetrics(port: number): Promise<{ heapUsed?: number; heapTotal?: number; external?: number }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const read = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return { heapUsed: read('nodejs_heap_size_used_bytes'), heapTotal: read('nodejs_heap_size_total_bytes'), external: read('nodejs_external_memory_bytes') };
  } catch {
    return {};
  }
}

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src', 'services').split('\n').filter(Boolean).length;
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in shared/src, services (compiled as they are)` : ', shared/src and services clean'}`;
  } catch {
    return 'git state unknown';
  }
}

type Measured = ServiceName | 'bare node';

interface Result {
  name: Measured;
  pid: number;
  startupMs: number;
  /** RSS right after /healthz answered. */
  atHealthy: number;
  samples: number[];
  hwm: number;
  heap: Awaited<ReturnType<typeof heapFromMetrics>>;
}

interface Started {
  name: Measured;
  port: number;
  service: ServiceProcess;
  startedAt: number;
}

const started: Started[] = [];
let db: TestDatabase | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** The bare baseline: node with one node:http server answering /healthz, nothing else loaded. */
const BARE_SCRIPT = `require('node:http').createServer((q, s) => { s.writeHead(200); s.end('ok'); }).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));`;

function start(name: Measured, port: number, env: Record<string, string>): Started {
  const command = name === 'bare node' ? ['node', '-e', BARE_SCRIPT] : ['node', `services/${name}/dist/main.js`];
  const service = spawnService(command, { cwd: root, env });
  const s = { name, port, service, startedAt: performance.now() };
  started.push(s);
  return s;
}

async function measure(s: Started): Promise<Omit<Result, 'samples' | 'hwm' | 'heap'>> {
  await waitHealthy(s.service, s.port, 90_000);
  return { name: s.name, pid: s.service.proc.pid!, startupMs: performance.now() - s.startedAt, atHealthy: memoryOf(s.service.proc.pid!).rss };
}

const cleanup = () => (cleaning ??= cleanupOnce());

async function cleanupOnce(): Promise<void> {
  const stops = started.map(async (s) => {
    s.service.kill('SIGTERM');
    const exited = await Promise.race([s.service.exited, sleep(15_000, undefined, { ref: false })]);
    if (exited === undefined) s.service.kill('SIGKILL');
    return `${s.name} ${exited === undefined ? 'killed (SIGKILL after 15 s)' : `exited ${exited}`}`;
  });
  const stopped = await Promise.all(stops);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    deleted = await deleteKeysUnder(redis, prefix);
  } catch (err) {
    console.error(`cleanup: keys under ${prefix} not deleted: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  await db?.close().catch((err: unknown) => console.error(`cleanup: schema not dropped: ${(err as Error).message}`));
  console.log(`\ncleanup: ${stopped.join(', ') || 'no process started'}; deleted ${deleted} keys under ${prefix}:*; dropped schema ${db?.schema ?? '(none)'}`);
}

const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) return;
  interrupted = true;
  console.error(`\n${signal}: stopping the services…`);
  void cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

async function main(): Promise<void> {
  if (!existsSync('/proc/self/status')) throw new Error('needs Linux /proc');
  console.log('# Idle RSS of each service, started from its compiled output as the images run it');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}) | ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM | load avg ${loadAvg()}`);
  if (BUILD) {
    progress('npx tsc -b');
    await buildProduction();
  }
  console.log(`code: ${gitState()}; dist/ ${BUILD ? 'rebuilt with `npx tsc -b` just now' : 'used as found (BENCH_BUILD=0)'}`);
  db = await createTestDatabase();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const env = {
    NODE_ENV: 'production',
    APP_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: databaseUrlFor(db.schema),
    WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
  };
  console.log(`env: NODE_ENV=production APP_ENV=production LOG_LEVEL=info QUEUE_PREFIX=${prefix} DATABASE_URL=<private schema ${db.schema}, migrated>`);
  console.log('     WEBHOOK_SIGNING_KEY=<fresh RSA-2048 PEM>, AUTH_JWT_SECRET (api only), own free port each; nothing else inherited but PATH and HOME.');
  console.log(`method: all processes start together; after /healthz answers each idles ${IDLE_S} s, then VmRSS is read from /proc/<pid>/status`);
  console.log(`        ${SAMPLES} times 1 s apart (max reported); VmHWM = peak RSS since start; heap from the service's own /metrics, read after.`);
  console.log('        No jobs, no requests besides the probes. The machine is shared: RSS does not depend on other load the way times do.\n');

  const runs: Started[] = [];
  for (const svc of SERVICE_NAMES) {
    const port = await freePort();
    runs.push(
      start(svc, port, {
        ...env,
        [SERVICES[svc].portVar]: String(port),
        ...(svc === 'api' ? { AUTH_JWT_SECRET: randomBytes(32).toString('hex') } : {}),
      }),
    );
  }
  const barePort = await freePort();
  runs.push(start('bare node', barePort, { PORT: String(barePort) }));

  const healthy = await Promise.all(runs.map(measure));
  progress(`all healthy (${healthy.map((h) => `${h.name} ${Math.round(h.startupMs)} ms`).join(', ')}); idling ${IDLE_S} s`);
  await sleep(IDLE_S * 1_000);
  const samples = new Map<Measured, number[]>(runs.map((r) => [r.name, []]));
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await sleep(1_000);
    for (const h of healthy) samples.get(h.name)!.push(memoryOf(h.pid).rss);
  }
  const results: Result[] = [];
  for (const [i, h] of healthy.entries()) {
    const exited = runs[i]!.service.proc.exitCode ?? runs[i]!.service.proc.signalCode;
    if (exited !== null) throw new Error(`${h.name} exited (${exited}) while idle:\n${runs[i]!.service.output()}`);
    results.push({ ...h, samples: samples.get(h.name)!, hwm: memoryOf(h.pid).hwm, heap: h.name === 'bare node' ? {} : await heapFromMetrics(runs[i]!.port) });
  }

  const bare = results.find((r) => r.name === 'bare node')!;
  const bareMax = Math.max(...bare.samples);
  console.log(`## Idle RSS (${IDLE_S} s idle, ${SAMPLES} readings)`);
  console.log(
    `${'process'.padEnd(11)}${pad('pid', 8)}${pad('ready in', 10)}${pad('RSS at ready', 14)}${pad('idle min', 11)}${pad('idle max', 11)}${pad('VmHWM', 11)}${pad('heap used', 11)}${pad('heap total', 12)}${pad('external', 10)}${pad('− bare', 10)}`,
  );
  for (const r of results) {
    const opt = (v: number | undefined) => (v === undefined ? '—' : mb(v));
    const max = Math.max(...r.samples);
    console.log(
      `${r.name.padEnd(11)}${pad(String(r.pid), 8)}${pad(`${Math.round(r.startupMs)} ms`, 10)}${pad(mb(r.atHealthy), 14)}${pad(mb(Math.min(...r.samples)), 11)}${pad(mb(max), 11)}${pad(mb(r.hwm), 11)}` +
        `${pad(opt(r.heap.heapUsed), 11)}${pad(opt(r.heap.heapTotal), 12)}${pad(opt(r.heap.external), 10)}${pad(r === bare ? '' : `+${((max - bareMax) / MB).toFixed(1)}`, 10)}`,
    );
  }
  console.log('   ready in = spawn → first 200 from /healthz (all four started at once on the shared CPUs). − bare = idle max − bare node idle max, MB:');
  console.log('   what the service\'s code, dependencies and connections (Redis, Postgres pool) add to an empty node process.');
  console.log(`   readings (MB, in order): ${results.map((r) => `${r.name} ${r.samples.map((s) => (s / MB).toFixed(1)).join('/')}`).join(' | ')}\n`);
  console.log(`## Target: idle RSS < ${TARGET_MB} MB per service`);
  for (const r of results.filter((x) => x !== bare)) {
    const max = Math.max(...r.samples);
    console.log(`  ${verdict(max < TARGET_MB * MB)}  ${r.name} idle RSS: max ${mb(max)} (peak since start ${mb(r.hwm)}; bare node ${mb(bareMax)}) (target < ${TARGET_MB} MB)`);
  }
  console.log(`  (load avg at the end ${loadAvg()})`);
}

await runBench(
  async () => {
    await main();
  },
  { cleanup: cleanup, interrupted: () => interrupted },
);

