/**
 * Webhook deliveries per second from ONE worker process to a local receiver that answers 200 at
 * once, with both signatures (RSA-2048, SPEC §8, and the subscription's Standard Webhooks
 * HMAC-SHA256, SPEC §18) and one `webhook_event` row per attempt, at worker concurrency 10 and 50;
 * plus the CPU cost of signing (RSA alone vs both), and a raw BullMQ Worker that only POSTs (the ceiling).
 *
 *   npm run bench:webhooks
 *   BENCH_JOBS=1000 BENCH_REPS=1 npm run bench:webhooks   # quick check
 *
 * Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (postgres://postgres@127.0.0.1:5432/test),
 * BENCH_JOBS (5000 per run), BENCH_REPS (3), BENCH_CONCURRENCY (10,50), BENCH_RAW (1: also run
 * the raw ceiling), BENCH_SIGN_MS (3000, signing loop), BENCH_DIAGNOSE (auto: after a missed
 * target, one stage-timed run and one CPU-profiled run at the highest concurrency; 1 always, 0 never),
 * BENCH_PROFILE_OUT (a path: also save that CPU profile as .cpuprofile), BENCH_POOL (10: the worker's
 * Postgres pool, as the worker service; change it only to experiment).
 *
 * Processes: the receiver is a child process (bench/lib/receiver-server.ts, node:http); the
 * worker runs in THIS process, started fresh for each run after its queue was filled, so the
 * CPU and event-loop figures below are the worker's own. Postgres: a private schema (dropped at
 * the end), the worker's pool sized like the worker service's (10). Exits 0 whatever the target
 * says; every key, schema, process and temp folder it makes is removed at the end (also on Ctrl-C).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { pino } from 'pino';
import { createJobClient, jobHandlers, type JobClient } from '../shared/src/index.js';
import { generateSubscriptionSecret, loadSigningKeys, loadWebhookSecretBox, requestBodyOf } from '../shared/src/webhooks/index.js';
import { createDatabase, type DatabaseHandle } from '../shared/src/db/index.js';
import { loadConfig } from '../shared/src/config/index.js';
import { createLogger } from '../shared/src/logger/index.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';
import { saveCpuProfile, summarizeCpuProfile } from './lib/cpu-profile.js';
import { startReceiverChild, type ReceiverChild } from './lib/receiver-child.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { measureSigning, measureStandardOnly, type SignCost } from './lib/sign-cost.js';
import { createStageTimer, STAGES } from './lib/stage-timing.js';
import { fmtInt, fmtMs, fmtPct, median, percentile } from './lib/stats.js';
import { closeOpenWorkers, deliveryPayload, rawRun, signedRun, type RunResult, type WebhookRunContext } from './lib/webhook-runs.js';
import { envInt } from './lib/bench-env.js';
import { runBench } from './lib/run-bench.js';
import { runPrefixes } from './lib/run-prefixes.js';

function envFlag(name: string, fallback: '0' | '1' | 'auto'): '0' | '1' | 'auto' {
  const raw = process.env[name] || fallback;
  if (raw !== '0' && raw !== '1' && raw !== 'auto') throw new Error(`${name} must be 0, 1 or auto, got ${raw}`);
  return raw;
}

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = envInt('BENCH_JOBS', 5_000);
const REPS = envInt('BENCH_REPS', 3);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY || '10,50').split(',').map((c) => {
  const n = Number(c.trim());
  if (!Number.isInteger(n) || n <= 0) throw new Error(`BENCH_CONCURRENCY: bad value "${c}"`);
  return n;
});
const RAW = envFlag('BENCH_RAW', '1') !== '0';
const SIGN_MS = envInt('BENCH_SIGN_MS', 3_000);
/** The HMAC loop alone: ~100k calls a second, so a second is plenty. */
const STANDARD_ONLY_MS = Math.min(SIGN_MS, 1_000);
const DIAGNOSE = envFlag('BENCH_DIAGNOSE', 'auto');
const PROFILE_OUT = process.env.BENCH_PROFILE_OUT || undefined;
const WARMUP_JOBS = Math.min(1_000, JOBS);
/** The worker service's pool: createDatabase's default 10 (services/worker/src/main.ts sets none). */
const WORKER_POOL = envInt('BENCH_POOL', 10);
const TARGET_PER_SEC = 500;

// Set DATABASE_URL for test/helpers/db.ts before it reads it.
process.env.DATABASE_URL = DATABASE_URL;

const { runId, prefixes, newPrefix } = runPrefixes('benchwh');
const admin = new Redis(REDIS_URL);
const producer = new Redis(REDIS_URL);
const logSink = pino.destination('/dev/null');
// The worker service's default LOG_LEVEL; a successful sub-second delivery logs nothing at info.
const logger = createLogger({ level: 'info', destination: logSink });

let testDb: TestDatabase | undefined;
let workerDb: DatabaseHandle | undefined;
let receiver: ReceiverChild | undefined;
let jobs: JobClient<typeof jobHandlers> | undefined;
let keyDir: string | undefined;

const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const pad = (text: string, width: number) => text.padStart(width);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const loadAvg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src').split('\n').filter(Boolean).length;
    const path = ['jobs/handlers/send-webhook.ts', 'webhooks/signature.ts', 'webhooks/subscription-secret.ts', 'webhooks/secret-box.ts', 'webhooks/http-delivery.ts', 'jobs/worker.ts', 'jobs/processor.ts', 'db/database.ts'].map((f) => `shared/src/${f}`);
    const touched = git('status', '--porcelain', '--', ...path).split('\n').filter(Boolean).map((l) => l.replace(/^\s*\S+\s+/, '').replace('shared/src/', ''));
    const measured = touched.length ? `uncommitted on the measured path: ${touched.join(', ')}` : 'measured path (send-webhook, signature, http-delivery, worker, processor) as committed';
    return `git ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) in shared/src` : ', shared/src clean'}; ${measured}`;
  } catch {
    return 'git state unknown';
  }
}

async function header(db: TestDatabase['db']): Promise<void> {
  const info = await admin.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const pgVersion = (await sql<{ server_version: string }>`show server_version`.execute(db)).rows[0]?.server_version ?? '?';
  const version = (pkg: string) => {
    try {
      // Some packages (kysely) do not export ./package.json: read it from the root node_modules then.
      return (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      try {
        return (JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
      } catch {
        return '?';
      }
    }
  };
  console.log('# Webhook deliveries per second: one worker process → local receiver (200 at once)');
  console.log(`date ${new Date().toISOString()} | node ${process.version} (OpenSSL ${process.versions.openssl}) | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}) | load avg ${loadAvg()}`);
  console.log(`redis ${redisVersion} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')} | postgres ${pgVersion} at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}`);
  console.log(`bullmq ${version('bullmq')} | undici ${version('undici')} | pg ${version('pg')} | kysely ${version('kysely')}`);
  console.log(`library: ${gitState()}`);
  console.log(`setup: receiver = child process pid ${receiver!.pid} (node:http on ${receiver!.origin}, answers 200 "ok" once the body is read);`);
  console.log(`       worker = createWorker + sendWebhook IN THIS PROCESS (pid ${process.pid}), one fresh worker + webhook runtime per run,`);
  console.log(`       Postgres pool ${WORKER_POOL}${WORKER_POOL === 10 ? ' (worker service default)' : ' (BENCH_POOL; the worker service uses 10)'}, logger at info → /dev/null, Prometheus metrics on,`);
  console.log(`       1 RSA-2048 signing key (no rotation) + the subscription's Standard Webhooks secret (AES-256-GCM at rest), WEBHOOK_TIMEOUT_MS ${loadConfig({ APP_ENV: 'test' }).webhook.timeoutMs}, allowPrivateNetworks (loopback).`);
  console.log('       Shared machine: other processes may take CPU; CPU-time figures are less sensitive to that than rates.\n');
}

function signingSection(rsa: SignCost, both: SignCost, standardOnly: SignCost, nKeys: number): void {
  console.log(`## Signing: webhookHeaders(...) one call at a time (RSA on the libuv thread pool), ${nKeys} key(s), ${rsa.bodyBytes} B body (a typical delivery)`);
  const line = (label: string, cost: SignCost, ms = SIGN_MS) =>
    `   ${label} ${fmtInt(cost.ops)} calls in ${(ms / 1000).toFixed(1)} s: ${cost.cpuUsPerOp.toFixed(1)} µs CPU/op → ${fmtInt(cost.opsPerCoreSec)} ops/s per core (wall ${cost.wallUsPerOp.toFixed(1)} µs/op)`;
  console.log(line('RSA alone                          ', rsa));
  console.log(line('RSA + Standard Webhooks (both sigs)', both));
  console.log(line('Standard Webhooks part alone       ', standardOnly, STANDARD_ONLY_MS));
  console.log(
    `   Standard Webhooks adds ${standardOnly.cpuUsPerOp.toFixed(1)} µs CPU per delivery (AES-256-GCM decrypt of the secret + HMAC-SHA256, measured alone), ` +
      `${fmtPct(standardOnly.cpuUsPerOp / rsa.cpuUsPerOp)} of the RSA signature; the two loops above differ by ${(both.cpuUsPerOp - rsa.cpuUsPerOp).toFixed(1)} µs`,
  );
  console.log('   (wall > CPU means other processes had the core part of the time; the difference of the first two loops carries their noise)\n');
}

type Side = 'signed' | 'raw';
type Results = Map<number, Record<Side, RunResult[]>>;
const bestRun = (runs: RunResult[]) => runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
const medianOf = (runs: RunResult[], f: (r: RunResult) => number) => median(runs.map(f));

function checkRun(side: Side, concurrency: number, r: RunResult): string[] {
  const problems: string[] = [];
  if (r.received !== r.deliveries) problems.push(`receiver saw ${r.received} requests, expected ${r.deliveries}`);
  if (side === 'signed') {
    if (r.rows?.success !== r.deliveries || r.rows?.failed !== 0) problems.push(`webhook_event rows: ${r.rows?.success} success / ${r.rows?.failed} failed, expected ${r.deliveries} / 0`);
    if (!r.signature?.startsWith('ok')) problems.push(`signature: ${r.signature}`);
  }
  return problems.map((p) => `${side} c=${concurrency}: ${p}`);
}

function runLine(r: RunResult): string {
  const rows = r.rows ? ` | rows ${fmtInt(r.rows.success)} ok / ${r.rows.failed} failed` : '';
  return `${fmtInt(r.perSec)}/s, ${r.cpuUsPerDelivery.toFixed(0)} µs CPU/delivery, ${r.cores.toFixed(2)} cores, ELU ${fmtPct(r.elu)}, loop delay ${r.loopDelayMs.mean.toFixed(1)}/${r.loopDelayMs.p99.toFixed(1)} ms mean/p99, receiver ${r.receiverCpuUs.toFixed(0)} µs/req, ${r.connections} conns${rows}`;
}

async function throughput(rc: WebhookRunContext): Promise<{ results: Results; problems: string[] }> {
  const problems: string[] = [];
  const maxC = Math.max(...CONCURRENCIES);
  progress(`warm-up: ${WARMUP_JOBS} signed${RAW ? ' + raw' : ''} deliveries at c=${maxC} (not reported)`);
  await signedRun(rc, maxC, WARMUP_JOBS);
  if (RAW) await rawRun(rc, maxC, WARMUP_JOBS);

  const results: Results = new Map(CONCURRENCIES.map((c) => [c, { signed: [], raw: [] }]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const concurrency of CONCURRENCIES) {
      const sides: Side[] = RAW ? (rep % 2 === 0 ? ['signed', 'raw'] : ['raw', 'signed']) : ['signed'];
      for (const side of sides) {
        const r = side === 'signed' ? await signedRun(rc, concurrency, JOBS) : await rawRun(rc, concurrency, JOBS);
        results.get(concurrency)![side].push(r);
        problems.push(...checkRun(side, concurrency, r));
        progress(`rep ${rep + 1}/${REPS} c=${concurrency} ${side}: ${runLine(r)} | load ${loadAvg()}`);
      }
    }
  }

  console.log(`## Throughput: ${fmtInt(JOBS)} pre-enqueued sendWebhook jobs per run, timed from worker construction to the last 'completed' event`);
  console.log(`   ${REPS} runs per side and concurrency (signed/raw order alternated per rep) after an unreported warm-up.`);
  console.log('   Headline = BEST of the runs (other load on this shared machine only slows runs down); medians for comparison.');
  console.log('   signed = createWorker + sendWebhook (SELECT subscription, RSA sign, POST, INSERT webhook_event);');
  console.log('   raw    = plain BullMQ Worker, processor = one POST with the same undici client (no signing, no DB, no library wrapper).');
  console.log(`${pad('conc', 5)}${pad('signed/s', 10)}${pad('median', 9)}${RAW ? `${pad('raw/s', 9)}${pad('median', 9)}${pad('signed/raw', 12)}` : ''}`);
  for (const [c, runs] of results) {
    const s = bestRun(runs.signed).perSec;
    const raw = RAW ? `${pad(fmtInt(bestRun(runs.raw).perSec), 9)}${pad(fmtInt(medianOf(runs.raw, (r) => r.perSec)), 9)}${pad(fmtPct(s / bestRun(runs.raw).perSec), 12)}` : '';
    console.log(`${pad(String(c), 5)}${pad(fmtInt(s), 10)}${pad(fmtInt(medianOf(runs.signed, (r) => r.perSec)), 9)}${raw}`);
  }
  console.log('   Cost in the worker process (medians over the runs): CPU per delivery (all threads), cores used, main-thread event-loop');
  console.log('   utilisation (ELU; 100% = the loop never waited), and what one fully available core would allow (1e6 / CPU µs):');
  for (const [c, runs] of results) {
    for (const side of RAW ? (['signed', 'raw'] as const) : (['signed'] as const)) {
      const cpu = medianOf(runs[side], (r) => r.cpuUsPerDelivery);
      console.log(
        `   c=${String(c).padEnd(3)} ${side.padEnd(7)} ${pad(cpu.toFixed(0), 5)} µs CPU/delivery | ${medianOf(runs[side], (r) => r.cores).toFixed(2)} cores | ELU ${pad(fmtPct(medianOf(runs[side], (r) => r.elu)), 6)} | 1-core ceiling ≈ ${fmtInt(1e6 / cpu)}/s | receiver ${medianOf(runs[side], (r) => r.receiverCpuUs).toFixed(0)} µs CPU/req`,
      );
    }
  }
  console.log('   all runs (deliveries/s, in run order):');
  for (const [c, runs] of results) {
    for (const side of RAW ? (['signed', 'raw'] as const) : (['signed'] as const)) console.log(`   c=${String(c).padEnd(3)} ${side.padEnd(7)} ${runs[side].map((r) => fmtInt(r.perSec)).join('  ')}`);
  }
  const signedRuns = [...results.values()].flatMap((r) => r.signed);
  const rowsOk = signedRuns.filter((r) => r.rows?.success === r.deliveries && r.rows.failed === 0).length;
  console.log(`   verification: ${rowsOk}/${signedRuns.length} signed runs with webhook_event success rows = ${fmtInt(JOBS)} and 0 failures;`);
  console.log(`   receiver counts match in ${[...results.values()].flatMap((r) => [...r.signed, ...r.raw]).filter((r) => r.received === r.deliveries).length}/${signedRuns.length + (RAW ? signedRuns.length : 0)} runs; last request's signature of each signed run: ${[...new Set(signedRuns.map((r) => (r.signature?.startsWith('ok') ? 'verifies against the JWKS' : r.signature)))].join('; ')}`);
  for (const p of problems) console.log(`   PROBLEM ${p}`);
  console.log();
  return { results, problems };
}

function signingShare(results: Results, cost: SignCost): void {
  console.log('## Share of time spent signing (both signatures: signing CPU µs from the loop above × signed deliveries/s)');
  console.log(`${pad('conc', 5)}${pad('signed/s', 10)}${pad('µs/delivery', 13)}${pad('sign µs', 9)}${pad('share of 1 core', 17)}${pad('share of worker CPU', 21)}`);
  for (const [c, runs] of results) {
    const best = bestRun(runs.signed);
    const perDeliveryUs = 1e6 / best.perSec;
    console.log(
      `${pad(String(c), 5)}${pad(fmtInt(best.perSec), 10)}${pad(perDeliveryUs.toFixed(0), 13)}${pad(cost.cpuUsPerOp.toFixed(0), 9)}${pad(fmtPct((cost.cpuUsPerOp * best.perSec) / 1e6), 17)}${pad(fmtPct(cost.cpuUsPerOp / best.cpuUsPerDelivery), 21)}`,
    );
  }
  console.log(`   µs/delivery = 1e6 / deliveries/s (wall per delivery at that rate); share of 1 core = sign µs / that;`);
  console.log('   share of worker CPU = sign µs / the run\'s CPU µs per delivery. Signing runs on the libuv thread pool, off the event loop.');
  console.log(`   At ${TARGET_PER_SEC}/s signing alone needs ${fmtPct((cost.cpuUsPerOp * TARGET_PER_SEC) / 1e6)} of one core.\n`);
}

function targets(results: Results): boolean {
  console.log(`## Target: ≥ ${TARGET_PER_SEC} signed deliveries/s per worker process (best of ${REPS})`);
  let allPass = true;
  for (const [c, runs] of results) {
    const best = bestRun(runs.signed).perSec;
    allPass &&= best >= TARGET_PER_SEC;
    console.log(`  ${verdict(best >= TARGET_PER_SEC)}  c=${c}: ${fmtInt(best)} signed deliveries/s (median ${fmtInt(medianOf(runs.signed, (r) => r.perSec))})`);
  }
  console.log();
  return allPass;
}

async function diagnose(rc: WebhookRunContext): Promise<void> {
  const c = Math.max(...CONCURRENCIES);
  console.log(`## Where the time goes (c=${c}, ${fmtInt(JOBS)} deliveries per run; diagnostic runs, not in the table above)`);
  const timer = createStageTimer();
  const timed = await signedRun(rc, c, JOBS, { timer });
  progress(`stage-timed run: ${runLine(timed)}`);
  console.log(`   Stage wall times per delivery (instrumented run: ${fmtInt(timed.perSec)}/s, ELU ${fmtPct(timed.elu)}, event-loop delay mean ${timed.loopDelayMs.mean.toFixed(1)} ms`);
  console.log(`   p99 ${timed.loopDelayMs.p99.toFixed(1)} ms). Under load they include waiting for the event loop and (SQL) for one of the ${WORKER_POOL} pooled`);
  console.log('   connections; sign = the RSA call on the thread pool (wait included); job = BullMQ active → completed (handler + library around it).');
  console.log(`${pad('stage', 10)}${pad('n', 7)}${pad('mean', 11)}${pad('p50', 11)}${pad('p99', 11)}`);
  for (const stage of STAGES) {
    const s = timer.samples[stage];
    if (s.length === 0) continue;
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    console.log(`${pad(stage, 10)}${pad(fmtInt(s.length), 7)}${pad(fmtMs(mean), 11)}${pad(fmtMs(percentile(s, 50)), 11)}${pad(fmtMs(percentile(s, 99)), 11)}`);
  }

  const profiled = await signedRun(rc, c, JOBS, { profile: true });
  progress(`profiled run: ${runLine(profiled)}`);
  const summary = summarizeCpuProfile(profiled.profile!, [
    'webhookHeaders@signature',
    'requestBodyOf@outbox-relay',
    'post@http-delivery',
    'processJob@processor',
    'executeQuery@kysely',
    'moveToFinished@bullmq',
    'moveToActive@bullmq',
  ]);
  if (PROFILE_OUT) await saveCpuProfile(profiled.profile!, PROFILE_OUT);
  const busy = summary.totalMs - (summary.categories.find(([k]) => k.startsWith('idle'))?.[1] ?? 0);
  const row = (ms: number, label: string) => console.log(`   ${pad(fmtPct(ms / busy), 7)} ${pad(((ms * 1000) / JOBS).toFixed(0), 5)} µs/delivery  ${label}`);
  console.log(`   CPU profile of the main thread (in-process V8 sampler every 0.5 ms; this run: ${fmtInt(profiled.perSec)}/s, ${profiled.cpuUsPerDelivery.toFixed(0)} µs CPU/delivery):`);
  console.log(`   ${fmtInt(summary.totalMs)} ms profiled, ${fmtInt(busy)} ms not idle = ${((busy * 1000) / JOBS).toFixed(0)} µs per delivery (sampled wall time: also counts moments the`);
  console.log('   OS gave the core to another process). Shares below are of the not-idle time.');
  console.log('   Self time by package (a native call is charged to its JS caller\'s package):');
  for (const [k, ms] of summary.categories.filter(([k]) => !k.startsWith('idle')).slice(0, 16)) row(ms, k);
  console.log('   Inclusive (the function and everything it ran synchronously; async continuations are not included):');
  for (const [k, ms] of Object.entries(summary.inclusive)) row(ms, k);
  console.log('   Top functions by self time:');
  for (const [k, ms] of summary.functions.filter(([k]) => !k.startsWith('(idle)')).slice(0, 16)) row(ms, k);
  if (PROFILE_OUT) console.log(`   profile saved to ${PROFILE_OUT} (open in Chrome DevTools or speedscope)`);
  console.log();
}

let cleaning: Promise<void> | undefined;
let interrupted = false;
const cleanup = () => (cleaning ??= cleanupAll());

async function cleanupAll(): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    ['worker of the run in progress', closeOpenWorkers],
    ['job client', async () => jobs?.close()],
    ['receiver child', async () => receiver?.stop()],
    ['worker database pool', async () => workerDb?.close()],
    ['Postgres schema', async () => testDb?.close()],
    [
      'Redis keys',
      async () => {
        let leftover = 0;
        for (const prefix of prefixes) leftover += await deleteKeysUnder(admin, prefix);
        if (leftover > 0) console.log(`cleanup: deleted ${leftover} leftover keys`);
      },
    ],
    ['signing key folder', async () => keyDir && rm(keyDir, { recursive: true, force: true })],
    ['Redis connections', () => Promise.all([producer.quit(), admin.quit()])],
  ];
  for (const [what, step] of steps) await step().catch((err: unknown) => console.error(`cleanup of ${what} failed:`, err));
  logSink.end();
  console.log(`\ncleanup: dropped schema ${testDb?.schema ?? '(none)'}, removed every key under ${prefixes.length} prefixes ${runId}-*, stopped the receiver child, removed ${keyDir ?? '(no key dir)'}`);
}

process.once('SIGINT', () => {
  interrupted = true;
  console.error('\ninterrupted: cleaning up…');
  void cleanup().finally(() => process.exit(130));
});

await runBench(
  async () => {
    testDb = await createTestDatabase();
    workerDb = await createDatabase({ databaseUrl: DATABASE_URL, schema: testDb.schema, max: WORKER_POOL });
    keyDir = await mkdtemp(join(os.tmpdir(), 'bench-wh-keys-'));
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: keyDir });
    const keys = (await loadSigningKeys(config)).all;
    receiver = await startReceiverChild();
    const relayPrefix = newPrefix();
    jobs = createJobClient({ handlers: jobHandlers, connection: producer, prefix: relayPrefix });
    await header(testDb.db);

    const body = JSON.stringify(requestBodyOf(deliveryPayload('00000000-0000-4000-8000-000000000000', 1234)));
    const secretBox = await loadWebhookSecretBox(config);
    const subscriptionId = '00000000-0000-4000-8000-000000000000';
    const standard = { box: secretBox, subscriptionId, ciphertext: secretBox.encrypt(generateSubscriptionSecret(), subscriptionId) };
    progress(`signing loops: 2 × ${SIGN_MS} ms (RSA alone, then both signatures) and the HMAC part alone`);
    const rsaCost = await measureSigning(keys, body, SIGN_MS);
    const cost = await measureSigning(keys, body, SIGN_MS, 200, standard);
    const standardOnly = measureStandardOnly(standard, body, STANDARD_ONLY_MS);
    signingSection(rsaCost, cost, standardOnly, keys.length);

    const rc: WebhookRunContext = { redisUrl: REDIS_URL, producer, admin, newPrefix, receiver, db: workerDb.db, keys, secretBox, config, logger, jobs };
    const { results } = await throughput(rc);
    signingShare(results, cost);
    const pass = targets(results);
    if (DIAGNOSE === '1' || (DIAGNOSE === 'auto' && !pass)) await diagnose(rc);
    console.log(`load avg at the end: ${loadAvg()}`);
  },
  { cleanup: cleanup, interrupted: () => interrupted },
);
