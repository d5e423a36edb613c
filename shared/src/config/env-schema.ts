import { z } from 'zod';
import { parseCronPattern } from '../cron/cron-pattern.js';
import { parseRedisUrl, RedisUrlError } from '../redis/redis-url.js';
import { parseSecretKeyText } from '../webhooks/secret-key-text.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `redis://`, `rediss://`, or a Redis Cluster's seed nodes as `redis+cluster://host:port[,host:port…]`. */
const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof RedisUrlError ? err.message : String(err) });
  }
});

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
  .pipe(z.url());

/** `https://app.example.com,http://localhost:5173`: exact origins (scheme, host, port; no path), comma-separated. */
const corsOrigins = z.string().transform((value, ctx) => {
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated origins like https://app.example.com (scheme://host[:port], no path or trailing slash); got "${origin}"` });
      return z.NEVER;
    }
  }
  return origins;
});

/**
 * Every environment variable the three services read (SPEC §2). Empty strings count as unset,
 * so `FOO=` in a compose file behaves like leaving FOO out.
 */
export const envSchema = z.object({
  APP_ENV: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must be a lower-case name such as local, test, staging, production').default('local'),
  PORT: int(0, 65535).default(8000),
  /** Browser origins allowed to call the API (CORS); unset = none. */
  CORS_ORIGINS: corsOrigins.optional(),
  WORKER_PORT: int(0, 65535).default(8001),
  SCHEDULER_PORT: int(0, 65535).default(8002),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or spaces').default('bull'),
  QUEUE_NAME: z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or spaces').default('jobs'),
  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  // Postgres waits (see DatabaseTimeouts in db/database.ts); 0 = no limit for the first two.
  DATABASE_STATEMENT_TIMEOUT_MS: int(0, 24 * 3600_000).default(30_000),
  DATABASE_QUERY_TIMEOUT_MS: int(0, 24 * 3600_000).default(35_000),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 600_000).default(5_000),
  WORKER_CONCURRENCY: int(1, 10_000).default(10),
  /** `critical:20,jobs:10,reports:2` (a bare name takes WORKER_CONCURRENCY); unset = every queue. Parsed in config.ts. */
  WORKER_QUEUES: z.string().optional(),
  WORKER_LOCK_DURATION_MS: int(1_000, 24 * 3600_000).default(300_000),
  WORKER_SHUTDOWN_TIMEOUT_MS: int(0, 24 * 3600_000).default(60_000),
  SCHEDULER_RECONCILE_MS: int(100, 24 * 3600_000).default(60_000),
  BULL_BOARD_USERNAME: z.string().min(1).optional(),
  BULL_BOARD_PASSWORD: z.string().min(1).optional(),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'must be a PEM public key' }).optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  WEBHOOK_SIGNING_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }).optional(),
  WEBHOOK_SIGNING_KEY_FILE: z.string().min(1).optional(),
  WEBHOOK_NEXT_SIGNING_KEY: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }).optional(),
  /** AES-256 key (32 bytes, hex or base64) that encrypts the subscriptions' Standard Webhooks secrets (SPEC §18). */
  WEBHOOK_SECRET_KEY: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseSecretKeyText(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(5_000),
  WEBHOOK_FAILURE_THRESHOLD: int(1, 1_000).default(5),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.optional(),
  WEBHOOK_EVENT_RETENTION_DAYS: int(1, 3650).default(30),
  /** When the built-in retention runs (cron, UTC), or `off` (SPEC §14 "Built-in schedules"). */
  WEBHOOK_EVENT_RETENTION_SCHEDULE: z
    .string()
    .superRefine((value, ctx) => {
      if (value.trim() === 'off') return;
      try {
        parseCronPattern(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `must be a cron pattern (UTC) or "off": ${err instanceof Error ? err.message : String(err)}` });
      }
    })
    .default('17 3 * * *'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.output<typeof envSchema>;
