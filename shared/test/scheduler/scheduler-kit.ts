/** Helpers shared by the scheduler tests: rows, what Redis holds, scheduler child processes. */
import { Queue } from 'bullmq';
import { afterEach, beforeEach } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database, NewCronJob } from '../../src/db/index.js';
import { canonical, isBuiltinScheduleId } from '../../src/scheduler/index.js';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { cleanupPrefix, killAll, sleepUntil, spawnTs, testPrefix, TEST_REDIS_URL, type Child } from '../../../test/helpers/index.js';

export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;

/** Inserts a `cron_job` row (an `echo` every minute unless overridden) and returns it. */
export async function insertRow(db: Kysely<Database>, row: Partial<NewCronJob> = {}) {
  counter += 1;
  return db
    .insertInto('cron_job')
    .values({ job_id: `job-${counter}-${Date.now().toString(36)}`, name: 'a cron', pattern: '0 * * * *', handler: 'echo', payload: { message: 'hi' }, ...row })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * What Redis holds for cron rows, one entry per scheduler, sorted by id: the fields the scheduler
 * sets. Built-in schedules (`builtin:…`, not rows) are left out; builtin-schedules.test.ts checks them.
 */
export async function schedulers(queue: Queue) {
  const all = await queue.getJobSchedulers();
  return all
    .filter((s) => !isBuiltinScheduleId(s.key))
    .map((s) => ({
      id: s.key,
      pattern: s.pattern,
      tz: s.tz,
      name: s.name,
      data: s.template?.data as unknown,
      attempts: s.template?.opts?.attempts,
      backoff: s.template?.opts?.backoff,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Waits until the schedulers in Redis, reduced by `pick`, equal `expected` (as JSON, key order aside). */
export async function untilSchedulers<T>(queue: Queue, pick: (s: Awaited<ReturnType<typeof schedulers>>) => T, expected: T, timeoutMs = 5_000) {
  let last: T | undefined;
  await sleepUntil(
    async () => {
      last = pick(await schedulers(queue));
      return canonical(last) === canonical(expected);
    },
    { timeoutMs, message: `schedulers to be ${JSON.stringify(expected)} (last seen ${JSON.stringify(last)})` },
  ).catch(() => {
    throw new Error(`timed out: schedulers are ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
  });
}

export interface SchedulerChildEnv {
  prefix: string;
  schema: string;
  ttlMs?: number;
  renewMs?: number;
  retryMs?: number;
  reconcileMs?: number;
}

/** Starts `test/fixtures/scheduler-process.ts` and waits until it listens for changes. */
export async function startSchedulerChild(o: SchedulerChildEnv): Promise<Child> {
  const child = spawnTs('test/fixtures/scheduler-process.ts', {
    REDIS_URL: TEST_REDIS_URL,
    TEST_PREFIX: o.prefix,
    TEST_DATABASE_URL,
    TEST_SCHEMA: o.schema,
    TEST_LOCK_TTL_MS: String(o.ttlMs ?? 2_000),
    TEST_LOCK_RENEW_MS: String(o.renewMs ?? 400),
    TEST_LOCK_RETRY_MS: String(o.retryMs ?? 300),
    TEST_RECONCILE_MS: String(o.reconcileMs ?? 60_000),
  });
  await sleepUntil(() => child.output().includes('scheduler-ready') || child.proc.exitCode !== null, { timeoutMs: 20_000, message: 'scheduler child ready' });
  if (child.proc.exitCode !== null) throw new Error(`scheduler child exited early:\n${child.output()}`);
  return child;
}

/** Whether a scheduler child's last leadership line says it leads. */
export function leads(child: Child): boolean {
  const lines = child.output().match(/^leader:(true|false)/gm) ?? [];
  return lines.at(-1) === 'leader:true';
}

/** The time a child last reported becoming leader, or undefined. */
export function electedAt(child: Child): number | undefined {
  const all = [...child.output().matchAll(/^leader:true at:(\d+)/gm)];
  return all.length ? Number(all.at(-1)![1]) : undefined;
}

/** Every pass a scheduler child reported. */
export function passesOf(child: Child): Array<{ kind: string; outcome: string; result?: { upserted: number; removed: number; unchanged: number; failed: number } }> {
  return [...child.output().matchAll(/^pass:(.*)$/gm)].map((m) => JSON.parse(m[1]!));
}

/** What each multi-process scheduler test works in: its own queue prefix, schema, Redis and queue. */
export interface SchedulerTestEnv {
  prefix: string;
  t: TestDatabase;
  redis: Redis;
  queue: Queue;
}

/** Opens a fresh {@link SchedulerTestEnv} (call in `beforeEach`). */
export async function openSchedulerTestEnv(label: string): Promise<SchedulerTestEnv> {
  const prefix = testPrefix(label);
  const t = await createTestDatabase();
  const redis = new Redis(TEST_REDIS_URL);
  return { prefix, t, redis, queue: new Queue('jobs', { connection: redis, prefix }) };
}

/**
 * A fresh {@link SchedulerTestEnv} for every test of the calling `describe`, opened and closed by
 * its hooks, with the list where the test puts the child processes it starts (killed after it).
 *
 * @example
 * const kit = useSchedulerTestEnv('lead');
 * it('…', async () => { kit.children.push(await startSchedulerChild({ prefix: kit.prefix, schema: kit.t.schema })); });
 */
export function useSchedulerTestEnv(label: string): SchedulerTestEnv & { children: Child[] } {
  const kit = { children: [] as Child[] } as SchedulerTestEnv & { children: Child[] };
  beforeEach(async () => {
    Object.assign(kit, await openSchedulerTestEnv(label));
  });
  afterEach(() => closeSchedulerTestEnv(kit, kit.children));
  return kit;
}

/** Kills the test's child processes, then closes and removes everything the env made (call in `afterEach`). */
export async function closeSchedulerTestEnv(env: SchedulerTestEnv, children: Child[]): Promise<void> {
  await killAll(children);
  await env.queue.close();
  await env.redis.quit();
  await env.t.close();
  await cleanupPrefix(env.prefix);
}
