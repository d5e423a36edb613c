import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import type { Redis } from 'ioredis';
import { createJobClient, jobHandlers, type HandlerMap, type JobClient } from '../../../../shared/src/index.js';
import { loadSigningKeys, loadWebhookSecretBox, type SigningKeys } from '../../../../shared/src/webhooks/index.js';
import { loadConfig, type Config } from '../../../../shared/src/config/index.js';
import { closeRedis, createRedis, redisKeys } from '../../../../shared/src/redis/index.js';
import { createMetricsRegistry } from '../../../../shared/src/metrics/index.js';
import { captureLogger, cleanupPrefix, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers/db.js';
import { createApp, type AppDeps } from '../../src/app.js';
import type { App } from '../../src/app-env.js';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
/** `WEBHOOK_SECRET_KEY` of every test app (so a non-local `env` passes config validation too). */
export const TEST_WEBHOOK_SECRET_KEY = randomBytes(32).toString('base64');

export interface TestApp {
  app: App;
  deps: AppDeps;
  prefix: string;
  database: TestDatabase;
  redis: Redis;
  lines: CapturedLog[];
  /** JSON request helper: `call('POST', '/api/admin/job', body, { token })`. */
  call(method: string, path: string, body?: unknown, init?: { token?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real app in-process (`app.request`), on the real Redis (own prefix) and Postgres (own
 * schema). `auth: true` turns on HS256 bearer auth with {@link TEST_JWT_SECRET}. Webhook signing
 * keys are `signingKeys` when given, else one key generated in memory per test process (so
 * nothing is written under DATA_DIR, and a non-local `env` may name `WEBHOOK_SIGNING_KEY_FILE:
 * '/unused'` just to pass config validation).
 */
export async function createTestApp(
  options: { auth?: boolean; handlers?: HandlerMap; redisUrl?: string; env?: Record<string, string>; signingKeys?: SigningKeys } = {},
): Promise<TestApp> {
  const prefix = testPrefix('api');
  const config = loadConfig({
    APP_ENV: 'test',
    QUEUE_PREFIX: prefix,
    WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
    ...(options.auth ? { AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_ISSUER: 'test-issuer', AUTH_AUDIENCE: 'jobs-api' } : {}),
    ...options.env,
  });
  // Before anything opens: nothing to close if it throws.
  const signingKeys = options.signingKeys ?? (await testSigningKeys(config));
  const database = await createTestDatabase();
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const redis = createRedis(redisUrl, 'producer');
  // Producer connections fail fast instead of queueing: let this one connect before the tests run.
  if (!options.redisUrl) await new Promise((resolve) => redis.once('ready', resolve));
  const handlers = options.handlers ?? jobHandlers;
  const jobs = createJobClient({ handlers, connection: redis, prefix, timeoutMs: 1_000 }) as JobClient<HandlerMap>;
  const { log, lines } = captureLogger('debug');
  const deps: AppDeps = {
    config,
    log,
    checks: { redis: () => redis.ping(), db: () => database.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute() },
    readinessTimeoutMs: 1_000,
    handlers,
    jobs,
    db: database.db,
    redis,
    keys: redisKeys(prefix, 'jobs'),
    metrics: createMetricsRegistry('api', { defaultMetrics: false }),
    auth: createTokenVerifier(config),
    signingKeys,
    // From the config's key: nothing written under DATA_DIR.
    webhookSecrets: await loadWebhookSecretBox(config),
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    prefix,
    database,
    redis,
    lines,
    async call(method, path, body, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      return app.request(path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    },
    async close() {
      await jobs.close();
      await closeRedis(redis);
      await database.close();
      if (!options.redisUrl) await cleanupPrefix(prefix);
    },
  };
}

let generatedPem: Promise<string> | undefined;

/** Keys from a 2048-bit RSA key generated once per test process (generating one takes a while). */
async function testSigningKeys(config: Config): Promise<SigningKeys> {
  generatedPem ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  return loadSigningKeys({ ...config, webhook: { ...config.webhook, signingKey: await generatedPem, signingKeyFile: undefined, nextSigningKey: undefined } });
}

/**
 * An HS256 token for the test app, expiring in 5 minutes; override claims to make it wrong on
 * purpose (`exp: null` leaves `exp` out, which the API refuses).
 */
export function mintToken(claims: { scope?: string; scp?: string[]; sub?: string; iss?: string; aud?: string; exp?: number | null } = {}, secret = TEST_JWT_SECRET): Promise<string> {
  const { sub = 'tester', iss = 'test-issuer', aud = 'jobs-api', exp, ...rest } = claims;
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer(iss).setAudience(aud).setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(exp ?? '5m');
  return jwt.sign(new TextEncoder().encode(secret));
}
