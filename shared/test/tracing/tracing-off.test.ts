import { context, trace } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, makeJob, type JobClient, type JobWorker } from '../../src/index.js';
import { createLogger } from '../../src/logger/index.js';
import { readTracingEnv, startTracing, TracingConfigError, tracingOn } from '../../src/tracing/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../test/helpers/index.js';

const noop = makeJob<Record<string, never>>(
  async (ctx) => {
    ctx.log.warn('ran');
    return trace.getActiveSpan() === undefined;
  },
  { schema: z.object({}) },
);

describe('tracing off (no OTLP endpoint)', () => {
  let prefix: string;
  let client: JobClient<{ noop: typeof noop }>;
  let worker: JobWorker;
  let lines: CapturedLog[];

  beforeEach(async () => {
    prefix = testPrefix('trace-off');
    client = createJobClient({ handlers: { noop }, redisUrl: TEST_REDIS_URL, prefix });
    const captured = captureLogger('info');
    lines = captured.lines;
    worker = createWorker({ handlers: { noop }, redisUrl: TEST_REDIS_URL, prefix, logger: captured.log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('stores no trace context with a job, runs it outside any span, and logs no trace ids', async () => {
    expect(tracingOn()).toBe(false);
    // Even inside a (non-recording) span context handed in by a caller: nothing is serialized.
    const id = await client.enqueueJob('noop', {});
    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed');
    const raw = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      const job = (await raw.getJob(id))!;
      expect(Object.keys(job.data as object)).toEqual(['type', 'payload']);
      expect(job.returnvalue).toBe(true);
    } finally {
      await raw.close();
    }
    const ran = lines.find((l) => l.msg === 'ran')!;
    expect(ran).toBeDefined();
    expect(ran.trace_id).toBeUndefined();
    expect(context.active()).toBeDefined();
  });

  it('startTracing without an endpoint (or with OTEL_SDK_DISABLED=true) starts nothing', async () => {
    const log = createLogger({ level: 'silent' });
    const off = await startTracing('jobs-test', log, {});
    expect(off.enabled).toBe(false);
    expect(off.provider).toBeUndefined();
    const disabled = await startTracing('jobs-test', log, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' });
    expect(disabled.enabled).toBe(false);
    expect(tracingOn()).toBe(false);
  });
});

describe('readTracingEnv', () => {
  it('is on with either endpoint variable, names the service by OTEL_SERVICE_NAME or its default', () => {
    expect(readTracingEnv({}, 'jobs-api')).toEqual({ enabled: false, protocol: 'http/protobuf', serviceName: 'jobs-api' });
    expect(readTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, 'jobs-api')).toMatchObject({ enabled: true, protocol: 'http/protobuf' });
    expect(readTracingEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'billing-worker' }, 'jobs-worker')).toEqual({
      enabled: true,
      protocol: 'http/json',
      serviceName: 'billing-worker',
    });
    expect(readTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, 'jobs-api').enabled).toBe(false);
  });

  it('refuses a protocol it cannot export and an endpoint that is not a URL, naming the variable', () => {
    expect(() => readTracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'x')).toThrow(new TracingConfigError('OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http/json, http/protobuf (got "grpc")'));
    expect(() => readTracingEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, 'x')).toThrow(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: /);
    expect(() => readTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'x')).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/);
  });
});
