import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers } from '../../shared/src/index.js';
import { freePort } from '../../scripts/lib/free-port.js';
import { databaseUrlFor } from '../deploy/lib/service-process.js';
import { cleanupPrefix, sleepUntil, testPrefix } from '../helpers/index.js';
import { startFlakyWebhookReceiver } from './lib/flaky-webhook-receiver.js';
import { OtlpKind, startOtlpReceiver, type OtlpSpan } from './lib/otlp-receiver.js';
import { Service } from './lib/service.js';
import { startSystem, type System } from './lib/system.js';

// Scenario (SPEC §15): api, worker and scheduler export OTLP/HTTP JSON to a receiver in the test.
// A request with a `traceparent` creates a cron job: its trace holds the API's server span, the
// outbox row's `sendWebhook` enqueue, both runs of the delivery (the receiver answers 503 once,
// so it is retried), their client spans, and the receiver got that trace's `traceparent`. An
// enqueue over HTTP joins its caller's trace the same way. Each tick of the cron job starts a
// trace of its own. Spans are held back (10 min batch delay) until SIGTERM flushes them.
// Beside the system: a worker exporting http/protobuf, and one with no endpoint whose module
// graph holds nothing of the SDK.

const moduleLog = join(import.meta.dirname, 'lib', 'module-log.mjs');
const traceId = () => randomBytes(16).toString('hex');
const traceparent = (tid: string) => `00-${tid}-${randomBytes(8).toString('hex')}-01`;

describe('system: one trace follows the work (OpenTelemetry)', () => {
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let hooks: Awaited<ReturnType<typeof startFlakyWebhookReceiver>>;
  let system: System;
  const sides: { service: Service; prefix: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tracing-test-'));
  const moduleLogFile = join(dir, 'modules.log');

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    hooks = await startFlakyWebhookReceiver();
    system = await startSystem({
      workers: 1,
      schedulers: 1,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Nothing is exported before SIGTERM: the flush at shutdown is what delivers the spans.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        NODE_OPTIONS: `--import ${moduleLog}`,
        MODULE_LOG_FILE: moduleLogFile,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      workerEnv: { LOG_LEVEL: 'info' },
    });
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
    for (const side of sides) {
      await side.service.kill9();
      await cleanupPrefix(side.prefix);
    }
    await otlp?.close();
    await hooks?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** A worker beside the system on a queue prefix of its own (same database), with `env` added. */
  async function sideWorker(name: string, env: Record<string, string>): Promise<{ service: Service; prefix: string }> {
    const prefix = testPrefix(name);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const service = new Service(name, 'worker', await freePort(), {
      APP_ENV: 'staging',
      REDIS_URL: system.redisUrl,
      QUEUE_PREFIX: prefix,
      QUEUE_NAME: system.queueName,
      DATABASE_URL: databaseUrlFor(system.database.schema),
      WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: `--import ${moduleLog}`,
      MODULE_LOG_FILE: moduleLogFile,
      ...env,
    });
    const side = { service, prefix };
    sides.push(side);
    await service.start(90_000);
    return side;
  }

  /** Runs one echo job on a side worker's prefix (enqueued by the test, untraced). */
  async function runEcho(prefix: string): Promise<void> {
    const client = createJobClient({ handlers: jobHandlers, redisUrl: system.redisUrl, prefix, queueName: system.queueName });
    try {
      const id = await client.enqueueJob('echo', { message: 'side' });
      await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { timeoutMs: 30_000, message: `echo on ${prefix}` });
    } finally {
      await client.close();
    }
  }

  const modulesOf = (pid: number) =>
    readFileSync(moduleLogFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${pid} `))
      .map((l) => l.slice(l.indexOf(' ') + 1));

  it('api → producer → runs (retry included) → client spans → receiver share one trace; cron ticks start their own', { timeout: 240_000 }, async () => {
    // Written in SQL: staging only accepts https URLs through the API (the receiver is plain http on loopback).
    await system.database.db.insertInto('webhook_subscription').values({ url: hooks.url, events: ['cronJob.*'], description: 'tracing receiver' }).execute();

    // A cron job created under the caller's trace T1: its webhook belongs to T1.
    const t1 = traceId();
    const created = await system.call('POST', '/api/admin/cronJob', { name: 'traced tick', pattern: '* * * * * *', handler: 'echo', payload: { message: 'tick' } }, { headers: { traceparent: traceparent(t1) } });
    expect(created.status, await created.clone().text()).toBe(201);
    // An ad-hoc enqueue under trace T2.
    const t2 = traceId();
    const enqueued = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'traced' } }, { headers: { traceparent: traceparent(t2) } });
    expect(enqueued.status).toBe(201);
    const echoId = ((await enqueued.json()) as { id: string }).id;

    // The delivery fails once (503), is retried, succeeds; both attempts carried T1.
    await sleepUntil(() => hooks.received.some((r) => r.status === 200), { timeoutMs: 60_000, message: 'webhook delivered after a retry' });
    expect(hooks.received.map((r) => r.status)).toEqual([503, 200]);
    const sentParents = hooks.received.map((r) => String(r.headers.traceparent ?? ''));
    for (const tp of sentParents) expect(tp).toMatch(new RegExp(`^00-${t1}-[0-9a-f]{16}-01$`));
    await sleepUntil(async () => (await system.queue.getJobState(echoId)) === 'completed', { timeoutMs: 30_000, message: 'echo completed' });
    // At least two cron ticks ran.
    await sleepUntil(async () => (await system.queue.getJobs(['completed'], 0, 200)).filter((j) => j.data?.type === 'cron').length >= 2, { timeoutMs: 30_000, message: 'two cron ticks' });

    // Log lines written while a run is active carry its trace (the failed attempt's error line).
    expect(system.workers[0]!.output()).toContain(`"trace_id":"${t1}"`);

    // Nothing exported yet (batch delay 10 min): SIGTERM must flush it.
    expect(otlp.spans).toHaveLength(0);
    for (const service of [system.api, system.schedulers[0]!, system.workers[0]!]) expect(await service.terminate(), service.output()).toBe(0);
    const spans = otlp.spans;
    expect(spans.length).toBeGreaterThan(0);

    const inTrace = (tid: string) => spans.filter((s) => s.traceId === tid);
    const one = (list: OtlpSpan[], what: string) => {
      expect(list, `${what} in ${JSON.stringify(spans.map((s) => [s.service, s.name, s.traceId.slice(0, 6)]))}`).toHaveLength(1);
      return list[0]!;
    };

    // Trace T1: SERVER → PRODUCER (sendWebhook) → CONSUMER ×2 (attempt 1 retrying, 2 completed) → CLIENT each.
    const t1Spans = inTrace(t1);
    const server = one(t1Spans.filter((s) => s.kind === OtlpKind.SERVER), 'server span');
    expect(server).toMatchObject({ service: 'jobs-api', name: 'POST /api/admin/cronJob' });
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/admin/cronJob', 'http.response.status_code': 201 });
    const producer = one(t1Spans.filter((s) => s.kind === OtlpKind.PRODUCER && s.attributes['jobs.handler'] === 'sendWebhook'), 'sendWebhook producer');
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.destination.name': 'jobs', 'messaging.operation.type': 'send' });
    expect(producer.parentSpanId).toBe(server.spanId);
    const runs = t1Spans.filter((s) => s.kind === OtlpKind.CONSUMER).sort((a, b) => Number(a.attributes['jobs.attempt']) - Number(b.attributes['jobs.attempt']));
    expect(runs.map((r) => [r.service, r.name, r.parentSpanId, r.attributes['jobs.handler'], r.attributes['jobs.attempt'], r.attributes['jobs.outcome']])).toEqual([
      ['jobs-worker', 'process jobs', producer.spanId, 'sendWebhook', 1, 'retrying'],
      ['jobs-worker', 'process jobs', producer.spanId, 'sendWebhook', 2, 'completed'],
    ]);
    expect(runs[0]!.status.code).toBe(2); // ERROR
    for (const run of runs) expect(run.attributes['messaging.message.id']).toBe(producer.attributes['messaging.message.id']);
    const clients = t1Spans.filter((s) => s.kind === OtlpKind.CLIENT);
    expect(clients.map((c) => c.parentSpanId).sort()).toEqual(runs.map((r) => r.spanId).sort());
    expect(clients.map((c) => c.attributes['http.response.status_code']).sort()).toEqual([200, 503]);
    for (const c of clients) expect(c.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.full': hooks.url.replace('/hooks', ''), 'server.address': '127.0.0.1' });
    // The receiver's traceparent named the client span of its attempt.
    expect(sentParents.map((tp) => tp.split('-')[2]).sort()).toEqual(clients.map((c) => c.spanId).sort());

    // Trace T2: SERVER → PRODUCER (echo) → CONSUMER.
    const t2Spans = inTrace(t2);
    const server2 = one(t2Spans.filter((s) => s.kind === OtlpKind.SERVER), 'enqueue server span');
    expect(server2.name).toBe('POST /api/admin/job');
    const producer2 = one(t2Spans.filter((s) => s.kind === OtlpKind.PRODUCER), 'echo producer');
    expect(producer2).toMatchObject({ parentSpanId: server2.spanId, attributes: { 'jobs.handler': 'echo', 'jobs.type': 'adhoc', 'messaging.message.id': echoId } });
    const run2 = one(t2Spans.filter((s) => s.kind === OtlpKind.CONSUMER), 'echo run');
    expect(run2).toMatchObject({ parentSpanId: producer2.spanId, attributes: { 'jobs.handler': 'echo', 'jobs.outcome': 'completed', 'jobs.attempt': 1 } });

    // Cron ticks: root consumer spans, each in a trace of its own.
    const ticks = spans.filter((s) => s.kind === OtlpKind.CONSUMER && s.attributes['jobs.type'] === 'cron');
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const tick of ticks) expect(tick.parentSpanId).toBe('');
    expect(new Set(ticks.map((t) => t.traceId)).size).toBe(ticks.length);
    expect(ticks.some((t) => t.traceId === t1)).toBe(false);

    // The SDK is in the graph of a service with an endpoint (so the check below can see it).
    expect(modulesOf(system.workers[0]!.pid).some((url) => url.includes('/@opentelemetry/sdk-trace-node/'))).toBe(true);
  });

  it('a worker with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf exports protobuf under its OTEL_SERVICE_NAME', { timeout: 180_000 }, async () => {
    const side = await sideWorker('worker-proto', {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'jobs-worker-proto',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await runEcho(side.prefix);
    const proto = await sleepUntil(() => otlp.requests.find((r) => r.contentType === 'application/x-protobuf' && r.body.includes('jobs-worker-proto')), {
      timeoutMs: 30_000,
      message: 'a protobuf export from jobs-worker-proto',
    });
    // Protobuf keeps strings as bytes: the run's span name and handler are in it.
    expect(proto.body.includes('process jobs')).toBe(true);
    expect(proto.body.includes('echo')).toBe(true);
  });

  it('a worker with no endpoint loads nothing of the SDK and runs jobs as before', { timeout: 180_000 }, async () => {
    const side = await sideWorker('worker-off', { OTEL_SERVICE_NAME: 'jobs-worker-off', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    await runEcho(side.prefix);
    const modules = modulesOf(side.service.pid);
    expect(modules.some((url) => url.includes('/@opentelemetry/api/')), 'the API is loaded (it is the no-op)').toBe(true);
    expect(modules.filter((url) => /\/@opentelemetry\/(sdk-|exporter-|resources\/|otlp-|core\/|context-async-hooks\/)/.test(url))).toEqual([]);
    expect(otlp.requests.some((r) => r.body.includes('jobs-worker-off'))).toBe(false);
    expect(side.service.output()).not.toContain('trace_id');
  });
});
