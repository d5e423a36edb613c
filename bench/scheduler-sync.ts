/**
 * Scheduler sync: Postgres `cron_job` rows → BullMQ job schedulers, against real Postgres and Redis.
 *
 *   npm run bench:scheduler-sync
 *   BENCH_ROWS=2000 BENCH_CHANGES=20 npm run bench:scheduler-sync   # quick check
 *
 * Measures, with the scheduler in this process (the leader of a fresh prefix):
 *  1. the first full pass: BENCH_ROWS rows into an empty Redis (upserts);
 *  2. a full pass with nothing changed (reads only, no write);
 *  3. a full pass after BENCH_CHANGED rows were changed in SQL;
 *  4. change → Redis: BENCH_CHANGES single-row updates, each committed then announced with
 *     publishCronChanged as the admin API does, timed from just after the commit until the
 *     scheduler's hash in Redis shows the new pattern (read every ~1 ms on another connection).
 * Env: REDIS_URL, DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_ROWS
 * (10000), BENCH_CHANGED (100), BENCH_CHANGES (100). Exits 0 whatever the targets say (1 if the
 * bench itself fails); its schema and every key it wrote are removed at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest } from '../shared/src/db/index.js';
import { createLogger } from '../shared/src/logger/index.js';
import { redisKeys } from '../shared/src/redis/index.js';
import { publishCronChanged } from '../shared/src/cron/index.js';
import { startCronScheduler, type PassReport } from '../shared/src/scheduler/index.js';
import { deleteKeysUnder } from './lib/redis-cleanup.js';
import { fmtInt, percentile } from './lib/stats.js';
import { envInt } from './lib/bench-env.js';


const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = envInt('BENCH_ROWS', 10_000);
const CHANGED = Math.min(envInt('BENCH_CHANGED', 100), ROWS);
const CHANGES = Math.min(envInt('BENCH_CHANGES', 100), ROWS);
const TARGET = { firstPassS: 10, noChangePassS: 2, changeP99Ms: 1_000 };

const runId = `benchsched-${process.pid}-${Date.now().toString(36)}`;
const schema = `bench_${randomBytes(5).toString('hex')}`;
const keys = redisKeys(runId, 'jobs');
const database = await createDatabase({ databaseUrl: DATABASE_URL, schema, max: 4 });
const { db } = database;
const redis = new Redis(REDIS_URL);
const reader = new Redis(REDIS_URL);
const progress = (line: string) => process.stderr.write(`  .. ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
/** Spreads rows over minutes and hours so next runs differ, as real crons do. */
const patternFor = (i: number) => `${i % 60} ${Math.floor(i / 60) % 24} * * *`;

async function header(): Promise<void> {
  const info = await redis.info('server');
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const bullmq = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
  const pg = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db)).rows[0]?.v;
  console.log('# Scheduler sync: cron_job rows → BullMQ job schedulers');
  console.log(`date ${new Date().toISOString()} | node ${process.version} | ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}) | load avg ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`redis ${redisVersion} | postgres ${pg} | bullmq ${bullmq} | ${fmtInt(ROWS)} rows, scheduler in this process, 64 writes in flight\n`);
}

async function seed(): Promise<void> {
  await migrateToLatest(db, { schema });
  for (let start = 0; start < ROWS; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, ROWS - start) }, (_, k) => {
      const i = start + k;
      return { job_id: `bench-${i}`, name: `bench ${i}`, pattern: patternFor(i), handler: 'echo', payload: { message: `row ${i}` } };
    });
    await db.insertInto('cron_job').values(batch).execute();
  }
}

async function main(): Promise<void> {
  await header();
  const t0 = performance.now();
  await seed();
  progress(`seeded ${fmtInt(ROWS)} rows in ${seconds(performance.now() - t0)}`);

  const passes: PassReport[] = [];
  const scheduler = startCronScheduler({
    db,
    redisUrl: REDIS_URL,
    prefix: runId,
    reconcileMs: 3_600_000, // only the passes this bench asks for
    logger: createLogger({ level: 'warn' }),
    onPass: (p) => passes.push(p),
  });
  try {
    // 1. Election → the first full pass, into an empty Redis.
    const waitFirst = async () => {
      while (!passes.some((p) => p.kind === 'full')) await new Promise((resolve) => setTimeout(resolve, 10));
      return passes.find((p) => p.kind === 'full')!;
    };
    const first = await waitFirst();
    check(first, { upserted: ROWS, removed: 0, unchanged: 0, failed: 0 });
    progress(`first pass ${seconds(first.durationMs)}`);

    // 2. Nothing changed.
    const noChange = await scheduler.reconcileNow();
    check(noChange, { upserted: 0, removed: 0, unchanged: ROWS, failed: 0 });
    progress(`no-change pass ${seconds(noChange.durationMs)}`);

    // 3. CHANGED rows edited in SQL (no messages), then a full pass.
    await db
      .updateTable('cron_job')
      .set({ pattern: sql`'*/7 ' || pattern` as unknown as string })
      .where('job_id', 'in', Array.from({ length: CHANGED }, (_, i) => `bench-${Math.floor((i * ROWS) / CHANGED)}`))
      .execute();
    // '*/7 m h * * *' is a valid 6-field pattern: the row keeps its schedule shape, with seconds.
    const changedPass = await scheduler.reconcileNow();
    check(changedPass, { upserted: CHANGED, removed: 0, unchanged: ROWS - CHANGED, failed: 0 });
    progress(`pass after ${CHANGED} changes ${seconds(changedPass.durationMs)}`);

    // 4. Change → Redis, one change at a time, as the admin API makes them.
    const latencies: number[] = [];
    for (let n = 0; n < CHANGES; n++) {
      const i = Math.floor((n * ROWS) / CHANGES) + 1;
      const jobId = `bench-${i % ROWS}`;
      const pattern = `${n % 60} ${n % 24} 1 * *`; // day 1 of the month: never a row's current pattern
      const row = await db.updateTable('cron_job').set({ pattern }).where('job_id', '=', jobId).returning('id').executeTakeFirstOrThrow();
      const committed = performance.now();
      await publishCronChanged(redis, keys, { cronJobId: row.id, op: 'update' });
      const schedulerKey = `${runId}:jobs:repeat:${jobId}`;
      const deadline = committed + 10_000;
      while ((await reader.hget(schedulerKey, 'pattern')) !== pattern) {
        if (performance.now() > deadline) throw new Error(`change ${n} (${jobId}) not in Redis after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      latencies.push(performance.now() - committed);
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    progress(`change → Redis p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms`);

    console.log('## Full passes (time from start of the pass to its last write; result = upserted / removed / unchanged / failed)');
    const line = (label: string, p: PassReport) =>
      console.log(`  ${label.padEnd(44)} ${seconds(p.durationMs).padStart(8)}   ${p.result!.upserted} / ${p.result!.removed} / ${p.result!.unchanged} / ${p.result!.failed}`);
    line(`${fmtInt(ROWS)} rows into an empty Redis`, first);
    line('nothing changed', noChange);
    line(`after ${CHANGED} rows changed in SQL`, changedPass);
    console.log(`## Change → Redis (${CHANGES} single-row changes: commit, publishCronChanged, until the scheduler in Redis shows it)`);
    console.log(`  p50 ${p50.toFixed(1)} ms | p99 ${p99.toFixed(1)} ms | max ${Math.max(...latencies).toFixed(1)} ms`);
    console.log('## Targets');
    console.log(`  ${verdict(first.durationMs / 1000 < TARGET.firstPassS)}  ${fmtInt(ROWS)} rows into empty Redis: ${seconds(first.durationMs)} (target < ${TARGET.firstPassS} s)`);
    console.log(`  ${verdict(noChange.durationMs / 1000 < TARGET.noChangePassS)}  no-change pass: ${seconds(noChange.durationMs)} (target < ${TARGET.noChangePassS} s)`);
    console.log(`  ${verdict(p99 < TARGET.changeP99Ms)}  change → Redis p99: ${p99.toFixed(1)} ms (target < ${TARGET.changeP99Ms} ms)`);
  } finally {
    await scheduler.close();
  }
}

/** Stops the bench if a pass did not do what it should (a wrong count makes its time meaningless). */
function check(p: PassReport, expected: NonNullable<PassReport['result']>): void {
  if (p.outcome === 'error' || JSON.stringify(p.result) !== JSON.stringify(expected)) {
    throw new Error(`pass result ${JSON.stringify(p.result)} (${p.outcome}${p.error ? `: ${p.error}` : ''}), expected ${JSON.stringify(expected)}`);
  }
}

try {
  await main();
} catch (err) {
  console.error('bench failed:', err);
  process.exitCode = 1;
} finally {
  const deleted = await deleteKeysUnder(redis, runId);
  progress(`cleanup: ${fmtInt(deleted)} keys deleted, schema ${schema} dropped`);
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
  await database.close();
  await Promise.all([redis.quit(), reader.quit()]);
}
