import { isClusterUrl } from '../redis/redis-url.js';
import { prefixHasHashTag } from '../redis/namespace.js';
import { envSchema } from './env-schema.js';
import { parseWorkerQueues } from './worker-queues.js';

/** Validated configuration shared by the three services. Built once by {@link loadConfig}. */
export interface Config {
  appEnv: string;
  /** `APP_ENV=local`: embedded database, open admin API, generated signing key. */
  isLocal: boolean;
  /** `APP_ENV=test`: the worker entry point starts nothing. */
  isTest: boolean;
  port: number;
  /** `CORS_ORIGINS`: browser origins allowed to call the API; empty = CORS off (no header is ever sent). */
  corsOrigins: string[];
  workerPort: number;
  schedulerPort: number;
  /** `redis://`, `rediss://`, or a Redis Cluster's seed nodes: `redis+cluster://host:port[,host:port…]` (see `parseRedisUrl`). */
  redisUrl: string;
  /**
   * BullMQ key prefix. With a cluster URL, a hash tag (`{jobs}`) keeps every queue in one slot;
   * without one each queue gets a slot of its own (`queuePrefix`).
   */
  queuePrefix: string;
  queueName: string;
  /** Unset only in local (embedded PGlite under `dataDir`) and test (each test brings its own). */
  databaseUrl: string | undefined;
  /** Postgres waits, in ms (0 = no limit); PGlite ignores them. See `DatabaseTimeouts`. */
  database: { statementTimeoutMs: number; queryTimeoutMs: number; connectTimeoutMs: number };
  dataDir: string;
  worker: {
    concurrency: number;
    lockDurationMs: number;
    shutdownTimeoutMs: number;
    /** `WORKER_QUEUES`: the queues this worker process runs and their concurrency; undefined = every queue of the registry. */
    queues: Record<string, number> | undefined;
  };
  scheduler: { reconcileMs: number };
  bullBoard: { username: string; password: string } | undefined;
  auth: {
    jwtSecret: string | undefined;
    jwtPublicKey: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  webhook: {
    signingKey: string | undefined;
    signingKeyFile: string | undefined;
    nextSigningKey: string | undefined;
    /** `WEBHOOK_SECRET_KEY` as given (decode with `parseSecretKeyText`); unset in local/test means one generated under `dataDir`. */
    secretKey: string | undefined;
    timeoutMs: number;
    failureThreshold: number;
    allowPrivateNetworks: boolean;
    eventRetentionDays: number;
    /** The built-in retention's cron pattern (UTC), or false when `WEBHOOK_EVENT_RETENTION_SCHEDULE=off`. */
    eventRetentionSchedule: string | false;
  };
  logLevel: string;
}

/** A bad environment: `variable` names the culprit, `message` is one printable line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid environment: ${variable} ${detail}`);
  }
}

type EnvInput = Record<string, string | undefined>;

/**
 * Parses and validates the environment once. Throws {@link ConfigError} naming the first bad
 * variable.
 *
 * @example
 * const config = loadConfig({ APP_ENV: 'test', DATABASE_URL: 'postgres://…' });
 */
export function loadConfig(source: EnvInput = process.env): Config {
  // Empty values are treated as unset (compose files often carry `FOO=`).
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const isLocal = e.APP_ENV === 'local';
  const isTest = e.APP_ENV === 'test';

  // Tests bring their own database per test, so only deployed environments must name one.
  if (!isLocal && !isTest && !e.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL', `is required when APP_ENV=${e.APP_ENV} (only local runs the embedded database)`);
  }
  if (Boolean(e.BULL_BOARD_USERNAME) !== Boolean(e.BULL_BOARD_PASSWORD)) {
    const missing = e.BULL_BOARD_USERNAME ? 'BULL_BOARD_PASSWORD' : 'BULL_BOARD_USERNAME';
    throw new ConfigError(missing, 'must be set together with its pair (BULL_BOARD_USERNAME / BULL_BOARD_PASSWORD)');
  }
  const authSources = [e.AUTH_JWT_SECRET, e.AUTH_JWT_PUBLIC_KEY, e.AUTH_JWKS_URL].filter(Boolean).length;
  if (authSources > 1) {
    throw new ConfigError('AUTH_JWT_SECRET', 'conflicts: set only one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL');
  }
  if (e.AUTH_JWKS_URL) checkJwksUrl(e.AUTH_JWKS_URL, e.APP_ENV, isLocal || isTest);
  if (isClusterUrl(e.REDIS_URL) && /[{}]/.test(e.QUEUE_PREFIX) && !hasHashTag(e.QUEUE_PREFIX)) {
    // Braces that make no hash tag (`{}jobs`) would be taken for one by a reader, not by Redis.
    throw new ConfigError('QUEUE_PREFIX', `has braces but no hash tag (use {name}, or no braces for a slot per queue) when REDIS_URL is a cluster (got "${e.QUEUE_PREFIX}")`);
  }
  let workerQueues: Record<string, number> | undefined;
  try {
    workerQueues = parseWorkerQueues(e.WORKER_QUEUES, e.WORKER_CONCURRENCY, e.QUEUE_NAME);
  } catch (err) {
    throw new ConfigError('WORKER_QUEUES', (err as Error).message);
  }
  if (e.DATABASE_QUERY_TIMEOUT_MS > 0 && e.DATABASE_QUERY_TIMEOUT_MS <= e.DATABASE_STATEMENT_TIMEOUT_MS) {
    // The client would give up first and drop the connection each time a slow query could have
    // been cancelled by the server on a connection that stays usable.
    throw new ConfigError('DATABASE_QUERY_TIMEOUT_MS', `must be longer than DATABASE_STATEMENT_TIMEOUT_MS (${e.DATABASE_STATEMENT_TIMEOUT_MS}), or 0`);
  }
  if (e.WEBHOOK_SIGNING_KEY && e.WEBHOOK_SIGNING_KEY_FILE) {
    throw new ConfigError('WEBHOOK_SIGNING_KEY', 'conflicts with WEBHOOK_SIGNING_KEY_FILE: set only one');
  }
  if (!isLocal && !isTest && !e.WEBHOOK_SIGNING_KEY && !e.WEBHOOK_SIGNING_KEY_FILE) {
    throw new ConfigError('WEBHOOK_SIGNING_KEY', `(or WEBHOOK_SIGNING_KEY_FILE) is required when APP_ENV=${e.APP_ENV}`);
  }
  if (!isLocal && !isTest && !e.WEBHOOK_SECRET_KEY) {
    throw new ConfigError('WEBHOOK_SECRET_KEY', `is required when APP_ENV=${e.APP_ENV} (32 bytes, hex or base64: openssl rand -base64 32)`);
  }

  return {
    appEnv: e.APP_ENV,
    isLocal,
    isTest,
    port: e.PORT,
    corsOrigins: e.CORS_ORIGINS ?? [],
    workerPort: e.WORKER_PORT,
    schedulerPort: e.SCHEDULER_PORT,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    queueName: e.QUEUE_NAME,
    databaseUrl: e.DATABASE_URL,
    database: {
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    },
    dataDir: e.DATA_DIR,
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      shutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS,
      queues: workerQueues,
    },
    scheduler: { reconcileMs: e.SCHEDULER_RECONCILE_MS },
    bullBoard:
      e.BULL_BOARD_USERNAME && e.BULL_BOARD_PASSWORD
        ? { username: e.BULL_BOARD_USERNAME, password: e.BULL_BOARD_PASSWORD }
        : undefined,
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET,
      jwtPublicKey: e.AUTH_JWT_PUBLIC_KEY,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
    },
    webhook: {
      signingKey: e.WEBHOOK_SIGNING_KEY,
      signingKeyFile: e.WEBHOOK_SIGNING_KEY_FILE,
      nextSigningKey: e.WEBHOOK_NEXT_SIGNING_KEY,
      secretKey: e.WEBHOOK_SECRET_KEY,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      failureThreshold: e.WEBHOOK_FAILURE_THRESHOLD,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? (isLocal || isTest),
      eventRetentionDays: e.WEBHOOK_EVENT_RETENTION_DAYS,
      eventRetentionSchedule: e.WEBHOOK_EVENT_RETENTION_SCHEDULE.trim() === 'off' ? false : e.WEBHOOK_EVENT_RETENTION_SCHEDULE,
    },
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * The JWKS is fetched over https outside local and test: keys fetched over plain http could be
 * swapped on the way, and then any token the swapper signs verifies.
 */
function checkJwksUrl(url: string, appEnv: string, httpAllowed: boolean): void {
  const { protocol } = new URL(url);
  if (protocol === 'https:' || (protocol === 'http:' && httpAllowed)) return;
  const allowed = httpAllowed ? 'must be an https or http URL' : `must use https when APP_ENV=${appEnv} (http is allowed in local and test only)`;
  throw new ConfigError('AUTH_JWKS_URL', `${allowed} (got ${protocol})`);
}

/**
 * Whether Redis Cluster hashes every key under `prefix` by the same part: the first `{…}` with
 * something between the braces (Redis' hash tag rule).
 *
 * @example
 * hasHashTag('{jobs}'); // true
 * hasHashTag('bull');   // false
 */
export function hasHashTag(prefix: string): boolean {
  return prefixHasHashTag(prefix);
}

/**
 * {@link loadConfig} for a service entry point: a bad value prints one line naming the variable
 * and exits with status 1.
 */
export function loadConfigOrExit(source: EnvInput = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
