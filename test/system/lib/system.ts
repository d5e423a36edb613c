import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest } from '../../../shared/src/db/index.js';
import { freePort } from '../../../scripts/lib/free-port.js';
import { databaseUrlFor } from '../../deploy/lib/service-process.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { cleanupPrefix, testPrefix, TEST_REDIS_URL } from '../../helpers/index.js';
import { Service } from './service.js';

const JWT_SECRET = `system-test-${randomBytes(24).toString('hex')}`;
const ISSUER = 'jobs-system-test';
const AUDIENCE = 'jobs-api';

export interface SystemOptions {
  /** Redis for every service (default the test Redis). */
  redisUrl?: string;
  /**
   * Postgres for every service (default the test Postgres, `DATABASE_URL`), e.g. a private
   * server the test restarts. The system still gets a migrated schema of its own on it.
   */
  databaseUrl?: string;
  workers?: number;
  schedulers?: number;
  /** Extra variables for every service. */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  schedulerEnv?: Record<string, string>;
  /** Leave the workers stopped (start them with `system.workers[i].start()`). */
  startWorkers?: boolean;
}

export interface System {
  prefix: string;
  queueName: string;
  database: TestDatabase;
  redisUrl: string;
  api: Service;
  workers: Service[];
  schedulers: Service[];
  /** Every service, in start order. */
  all(): Service[];
  /** A BullMQ queue handle on the system's queue, for inspection (own connection). */
  queue: Queue;
  /** A plain Redis connection of the test's own. */
  redis: Redis;
  /** A bearer token with `jobs:admin`. */
  token: string;
  /** `fetch` against the API with the token and JSON body. */
  call(method: string, path: string, body?: unknown, init?: { headers?: Record<string, string>; timeoutMs?: number }): Promise<Response>;
  /** Output of every process, for a failing test's message. */
  dump(): string;
  /** Kills everything, drops the schema, deletes the prefix's keys. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * The whole system as separate processes started from the sources: the API (APP_ENV=staging,
 * HS256 bearer auth), `workers` workers and `schedulers` schedulers, on a queue prefix and a
 * Postgres schema of their own, each on a free port. Resolves once every `/healthz` answers.
 */
export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const prefix = testPrefix('sys');
  const queueName = 'jobs';
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const database = options.databaseUrl ? await createSchemaOn(options.databaseUrl) : await createTestDatabase();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const common: Record<string, string> = {
    APP_ENV: 'staging',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    QUEUE_NAME: queueName,
    DATABASE_URL: options.databaseUrl ? withSearchPath(options.databaseUrl, database.schema) : databaseUrlFor(database.schema),
    WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const ports = await distinctFreePorts(1 + (options.workers ?? 2) + (options.schedulers ?? 2));
  const api = new Service('api', 'api', ports.shift()!, { ...common, AUTH_JWT_SECRET: JWT_SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });
  const workers = Array.from({ length: options.workers ?? 2 }, (_, i) => new Service(`worker-${i + 1}`, 'worker', ports.shift()!, { ...common, ...options.workerEnv }));
  const schedulers = Array.from(
    { length: options.schedulers ?? 2 },
    (_, i) => new Service(`scheduler-${i + 1}`, 'scheduler', ports.shift()!, { ...common, ...options.schedulerEnv }),
  );
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const queue = new Queue(queueName, { connection: redis, prefix });
  queue.on('error', () => {});
  const token = await new SignJWT({ scope: 'jobs:admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('system-test')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(JWT_SECRET));

  const all = () => [api, ...workers, ...schedulers];
  let stopping: Promise<void> | undefined;
  const system: System = {
    prefix,
    queueName,
    database,
    redisUrl,
    api,
    workers,
    schedulers,
    all,
    queue,
    redis,
    token,
    call: (method, path, body, init = {}) =>
      fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
      }),
    dump: () => all().map((s) => `----- ${s.name} -----\n${s.allOutput().slice(-6_000)}`).join('\n'),
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(all().map((s) => s.kill9()));
        await queue.close().catch(() => undefined);
        redis.disconnect();
        await database.close().catch(() => undefined);
        await cleanupPrefix(prefix, redisUrl).catch(() => undefined);
      })()),
  };
  try {
    // Five tsx start-ups at once on two cores take a while; each waits for its own /healthz.
    await Promise.all(all().filter((s) => options.startWorkers !== false || s.kind !== 'worker').map((s) => s.start(90_000)));
  } catch (err) {
    const dump = system.dump();
    await system.stop();
    throw new Error(`${(err as Error).message}\n${dump}`);
  }
  return system;
}

/**
 * A migrated schema of its own on the Postgres at `databaseUrl` (what `createTestDatabase` does
 * on the shared test server, without its cross-process DDL lock: a server given here is the
 * test's own).
 */
async function createSchemaOn(databaseUrl: string): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await createDatabase({ databaseUrl, schema, max: 4 });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
      } finally {
        await handle.close();
      }
    })());
  try {
    await migrateToLatest(handle.db, { schema });
  } catch (err) {
    await handle.close();
    throw err;
  }
  return { db: handle.db, schema, close };
}

/** `databaseUrl` with every connection's search_path set to `schema` (as `databaseUrlFor` does for the test Postgres). */
function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Whether the scheduler says it leads (`scheduler_is_leader 1` in its /metrics). */
export async function isLeader(scheduler: Service): Promise<boolean> {
  return scheduler.running && (await scheduler.metric('scheduler_is_leader')) === 1;
}
