// `npm run lint:openapi` (and `tsx scripts/dump-openapi.ts [file]`): writes the API's OpenAPI
// document, exactly as GET /api/openapi.json serves it for the built-in handlers, to `file` (or
// stdout). It builds the app in-process with inert dependencies — nothing is started, no request
// reaches Redis or the database — so it needs neither running.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  createJobClient,
  createLogger,
  createMetricsRegistry,
  createRedis,
  jobHandlers,
  loadConfig,
  loadSigningKeys,
  loadWebhookSecretBox,
  redisKeys,
  type Database,
  type HandlerMap,
  type JobClient,
} from '@jobs/shared';
import { createApp } from '../services/api/src/app.js';

const out = process.argv[2];
const prefix = 'openapi-dump';
// Test mode with throwaway keys: the document does not depend on them, and nothing is written under DATA_DIR.
const config = loadConfig({ APP_ENV: 'test', QUEUE_PREFIX: prefix, WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'), REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
// Never connects unless a command is sent, and building the document sends none.
const redis = createRedis(config.redisUrl, 'producer', { lazyConnect: true });
const jobs = createJobClient({ handlers: jobHandlers, connection: redis, prefix }) as JobClient<HandlerMap>;
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://unused.invalid/none', max: 1 }) }) });

const app = createApp({
  config,
  log: createLogger({ level: 'fatal' }),
  checks: {},
  handlers: jobHandlers,
  jobs,
  db,
  redis,
  keys: redisKeys(prefix, 'jobs'),
  metrics: createMetricsRegistry('api', { defaultMetrics: false }),
  auth: undefined,
  signingKeys: await loadSigningKeys({ ...config, webhook: { ...config.webhook, signingKey: pem, signingKeyFile: undefined, nextSigningKey: undefined } }),
  webhookSecrets: await loadWebhookSecretBox(config),
});

const res = await app.request('/api/openapi.json');
if (res.status !== 200) throw new Error(`GET /api/openapi.json answered ${res.status}: ${await res.text()}`);
const text = `${JSON.stringify(await res.json(), null, 2)}\n`;
if (out) {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  process.stderr.write(`wrote ${out}\n`);
} else {
  process.stdout.write(text);
}
// The BullMQ queues hold the lazy connection open; nothing else is pending.
redis.disconnect();
await db.destroy();
process.exit(0);
