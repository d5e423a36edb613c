/**
 * The runs of bench/webhooks.ts. Each run uses a fresh queue prefix and (signed runs) a fresh
 * subscription, pre-fills the queue, then starts a worker IN THIS PROCESS and times it from
 * construction to the last 'completed' event:
 * - `signedRun`: the library's `createWorker` running the real `sendWebhook` handler (RSA and
 *   Standard Webhooks HMAC signatures), with the services the worker service gives it (webhook runtime, Postgres pool of 10, metrics, logger at info);
 * - `rawRun`: a plain BullMQ Worker whose processor only POSTs the body with the same undici
 *   client (no signing, no DB, no library wrapper): the ceiling of the delivery loop.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createWorker, jobHandlers, verifyWebhook, type JobClient } from '../../shared/src/index.js';
import { makeEnvelope, toBullJobOptions } from '../../shared/src/jobs/index.js';
import { createWebhookHttpClient, createWebhookMetrics, generateSubscriptionSecret, jwks, relayOutbox, type SendWebhookPayload, type SigningKey, type WebhookRuntime, type WebhookSecretBox } from '../../shared/src/webhooks/index.js';
import type { Database } from '../../shared/src/db/index.js';
import type { Config } from '../../shared/src/config/index.js';
import { createMetricsRegistry } from '../../shared/src/metrics/index.js';
import { startCpuProfile, type CpuProfile } from './cpu-profile.js';
import type { ReceiverChild, ReceiverStats } from './receiver-child.js';
import { deleteKeysUnder } from './redis-cleanup.js';
import type { StageTimer } from './stage-timing.js';
import { untilCompleted } from './until-completed.js';

export const QUEUE_NAME = 'jobs';

export interface WebhookRunContext {
  redisUrl: string;
  /** Fills queues. */
  producer: Redis;
  /** Deletes keys after each run. */
  admin: Redis;
  /** A fresh unique key prefix, remembered for the final sweep. */
  newPrefix(): string;
  receiver: ReceiverChild;
  /** The worker's database: the private schema, pooled like the worker service (10 unless BENCH_POOL). */
  db: Kysely<Database>;
  keys: SigningKey[];
  /** Encrypts the subscriptions' Standard Webhooks secrets, as the worker's `WEBHOOK_SECRET_KEY`. */
  secretBox: WebhookSecretBox;
  config: Config;
  logger: Logger;
  /** Enqueues the breaker's outbox events (never used when every delivery succeeds). */
  jobs: JobClient<typeof jobHandlers>;
}

/** Exactly the options `enqueueJob('sendWebhook', payload)` writes. */
export const sendWebhookOptions = toBullJobOptions('sendWebhook', jobHandlers.sendWebhook, {});

/** A typical event as the outbox relay enqueues it: a cron job was updated. */
export function deliveryPayload(subscriptionId: string, n: number): SendWebhookPayload {
  const at = new Date().toISOString();
  return {
    subscriptionId,
    action: 'update',
    resource: 'cronJob',
    resourceId: `cron-${n}`,
    webhookId: `evt_bench_${n}`,
    occurredAt: at,
    data: {
      id: `cron-${n}`,
      name: `nightly-report-${n}`,
      pattern: '0 3 * * *',
      timezone: 'Europe/Berlin',
      handler: 'echo',
      payload: { message: 'generate the nightly report', recipients: ['ops@example.com'] },
      enabled: true,
      createdAt: at,
      updatedAt: at,
    },
  };
}

async function fill(queue: Queue, subscriptionId: string, count: number, chunk = 1_000): Promise<void> {
  for (let start = 0; start < count; start += chunk) {
    const batch = [];
    for (let n = start; n < Math.min(count, start + chunk); n++) {
      batch.push({ name: 'sendWebhook', data: makeEnvelope(deliveryPayload(subscriptionId, n)), opts: sendWebhookOptions });
    }
    await queue.addBulk(batch);
  }
}


export interface RunResult {
  deliveries: number;
  wallMs: number;
  perSec: number;
  /** CPU time (user + system, all threads) of this process per delivery while the worker ran. */
  cpuUsPerDelivery: number;
  /** That CPU time over the wall time: 1.0 = one full core. */
  cores: number;
  /** Event-loop utilisation of this process's main thread while the worker ran (1 = never idle). */
  elu: number;
  /** Event-loop delay of the main thread while the worker ran (ms): how long a ready callback waited. */
  loopDelayMs: { mean: number; p99: number };
  /** The receiver child's CPU per request, and requests/connections it saw during the run. */
  receiverCpuUs: number;
  received: number;
  connections: number;
  /** Signed runs: `webhook_event` rows of the run's subscription. */
  rows?: { success: number; failed: number };
  /** Signed runs: whether the last request the receiver got verifies against the JWKS. */
  signature?: string;
  profile?: CpuProfile;
}

interface Measured {
  wallMs: number;
  cpuUs: number;
  elu: EventLoopUtilization;
  loopDelayMs: { mean: number; p99: number };
  profile?: CpuProfile;
}

const open = new Set<{ close(): Promise<void> }>();
/** Closes the worker of a run in progress (after an interrupt), so nothing writes keys after the cleanup. */
export async function closeOpenWorkers(): Promise<void> {
  await Promise.all([...open].map((w) => w.close()));
}

/** Starts the worker (`start`), waits for `jobs` completions, stops it; returns what it cost. */
async function measure(jobs: number, start: () => { worker: Worker; close(): Promise<void> }, profile: boolean): Promise<Measured> {
  const stopProfile = profile ? await startCpuProfile() : undefined;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const started = start();
  let closing: Promise<void> | undefined;
  const w = { worker: started.worker, close: () => (closing ??= started.close()) };
  open.add(w);
  try {
    const end = await untilCompleted(w.worker, jobs);
    const { user, system } = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    delay.disable();
    const loopDelayMs = { mean: delay.mean / 1e6, p99: delay.percentile(99) / 1e6 };
    return { wallMs: end - t0, cpuUs: user + system, elu, loopDelayMs, profile: await stopProfile?.() };
  } finally {
    delay.disable();
    await w.close();
    open.delete(w);
  }
}

function result(jobs: number, m: Measured, before: ReceiverStats, after: ReceiverStats): RunResult {
  const received = after.requests - before.requests;
  return {
    deliveries: jobs,
    wallMs: m.wallMs,
    perSec: jobs / (m.wallMs / 1_000),
    cpuUsPerDelivery: m.cpuUs / jobs,
    cores: m.cpuUs / 1_000 / m.wallMs,
    elu: m.elu.utilization,
    loopDelayMs: m.loopDelayMs,
    receiverCpuUs: (after.cpuUs - before.cpuUs) / Math.max(1, received),
    received,
    connections: after.connections - before.connections,
    profile: m.profile,
  };
}

export interface SignedRunOptions {
  /** Instrument this run (stage timings; slightly slower). */
  timer?: StageTimer;
  /** Take an in-process CPU profile of the timed part. */
  profile?: boolean;
}

/** The real thing: `createWorker` + `sendWebhook`, signing and one `webhook_event` row per attempt. */
export async function signedRun(rc: WebhookRunContext, concurrency: number, jobs: number, options: SignedRunOptions = {}): Promise<RunResult> {
  const prefix = rc.newPrefix();
  const queue = new Queue(QUEUE_NAME, { connection: rc.producer, prefix });
  // As the API creates one: with its Standard Webhooks secret, so deliveries carry both signatures.
  const subscriptionId = randomUUID();
  const secret = generateSubscriptionSecret();
  await rc.db
    .insertInto('webhook_subscription')
    .values({ id: subscriptionId, url: `${rc.receiver.origin}/hooks/${prefix}`, events: ['*'], description: 'bench', secret_ciphertext: rc.secretBox.encrypt(secret, subscriptionId) })
    .execute();
  try {
    await fill(queue, subscriptionId, jobs);
    const before = await rc.receiver.stats();
    const { timer } = options;
    const m = await measure(
      jobs,
      () => {
        // What services/worker/src/webhook-runtime.ts builds, per run (a fresh worker process would have a fresh one).
        const metrics = createMetricsRegistry('worker');
        const http = createWebhookHttpClient({ timeoutMs: rc.config.webhook.timeoutMs, allowPrivateNetworks: true });
        const webhooks: WebhookRuntime = {
          signingKeys: timer ? timer.keys(rc.keys) : rc.keys,
          secretBox: rc.secretBox,
          http: timer ? timer.http(http) : http,
          failureThreshold: rc.config.webhook.failureThreshold,
          eventRetentionDays: rc.config.webhook.eventRetentionDays,
          metrics: createWebhookMetrics(metrics),
          relay: () => relayOutbox(rc.db, (payload, opts) => rc.jobs.enqueueJob('sendWebhook', payload, opts)),
        };
        const jobWorker = createWorker({
          handlers: jobHandlers,
          redisUrl: rc.redisUrl,
          prefix,
          queueName: QUEUE_NAME,
          concurrency,
          lockDurationMs: rc.config.worker.lockDurationMs,
          shutdownTimeoutMs: rc.config.worker.shutdownTimeoutMs,
          logger: rc.logger,
          metrics,
          services: { db: timer ? rc.db.withPlugin(timer.plugin) : rc.db, webhooks },
        });
        timer?.watch(jobWorker.worker);
        return {
          worker: jobWorker.worker,
          close: async () => {
            await jobWorker.close();
            await http.close();
          },
        };
      },
      options.profile ?? false,
    );
    const after = await rc.receiver.stats();
    const r = result(jobs, m, before, after);
    const counts = await rc.db
      .selectFrom('webhook_event')
      .select([sql<number>`count(*) filter (where success)::int`.as('success'), sql<number>`count(*) filter (where not success)::int`.as('failed')])
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirstOrThrow();
    r.rows = counts;
    r.signature = checkSignature(after, rc.keys, secret);
    return r;
  } finally {
    await queue.close();
    await deleteKeysUnder(rc.admin, prefix);
  }
}

/** Whether the last request verifies both ways: RSA against the JWKS, and with the standardwebhooks library. */
function checkSignature(stats: ReceiverStats, keys: SigningKey[], secret: string): string {
  if (!stats.last) return 'no request seen';
  try {
    const { webhookId } = verifyWebhook({ headers: stats.last.headers, rawBody: stats.last.body, keys: jwks(keys) });
    new Webhook(secret).verify(stats.last.body, stats.last.headers as Record<string, string>);
    return `ok (${webhookId}, ${Buffer.byteLength(stats.last.body)} B body)`;
  } catch (err) {
    return `FAILED: ${(err as Error).message}`;
  }
}

/** Headers of the raw side: what a delivery sends, minus the signature. */
const RAW_HEADERS = { 'content-type': 'application/json', 'user-agent': 'jobs-webhooks/1' };

/** The ceiling: a raw BullMQ Worker that only POSTs each job's event body with the same undici client. */
export async function rawRun(rc: WebhookRunContext, concurrency: number, jobs: number): Promise<RunResult> {
  const prefix = rc.newPrefix();
  const queue = new Queue(QUEUE_NAME, { connection: rc.producer, prefix });
  const url = `${rc.receiver.origin}/hooks/${prefix}`;
  try {
    // Same job data as the signed side (the subscription id is not looked up here).
    await fill(queue, '00000000-0000-4000-8000-000000000000', jobs);
    const before = await rc.receiver.stats();
    const m = await measure(
      jobs,
      () => {
        const http = createWebhookHttpClient({ timeoutMs: rc.config.webhook.timeoutMs, allowPrivateNetworks: true });
        const connection = new Redis(rc.redisUrl, { maxRetriesPerRequest: null });
        const worker = new Worker(
          QUEUE_NAME,
          async (job: Job<{ payload: SendWebhookPayload }>) => {
            const { subscriptionId: _s, ...event } = job.data.payload;
            const res = await http.post(url, JSON.stringify(event), { ...RAW_HEADERS, 'x-webhook-id': event.webhookId! });
            if (!res.ok) throw new Error(`delivery failed: ${res.error}`);
            return { outcome: 'delivered', status: res.status };
          },
          // The library's worker settings, so only the processor differs.
          { connection, prefix, concurrency, lockDuration: rc.config.worker.lockDurationMs, stalledInterval: Math.min(rc.config.worker.lockDurationMs, 30_000) },
        );
        worker.on('error', (err) => console.error(`raw worker error: ${err.message}`));
        return {
          worker,
          close: async () => {
            await worker.close();
            await connection.quit();
            await http.close();
          },
        };
      },
      false,
    );
    return result(jobs, m, before, await rc.receiver.stats());
  } finally {
    await queue.close();
    await deleteKeysUnder(rc.admin, prefix);
  }
}
