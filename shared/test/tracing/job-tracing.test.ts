import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, makeJob, type JobClient, type JobWorker } from '../../src/index.js';
import { makeEnvelope } from '../../src/jobs/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../test/helpers/index.js';
import { parentOf, startInMemoryTracing } from './in-memory-tracing.js';

const handlerTracer = trace.getTracer('test-handler');

/** Makes a span of its own (nested under the run) and logs, failing on the attempts it is told to. */
const traced = makeJob<{ failUntil: number }>(
  async (ctx, payload) => {
    await handlerTracer.startActiveSpan('handler work', async (span) => {
      ctx.log.warn({ attempt: ctx.attempt }, 'inside the handler');
      span.end();
    });
    if (ctx.attempt <= payload.failUntil) throw new Error(`boom on attempt ${ctx.attempt}`);
    return { ok: true };
  },
  { schema: z.object({ failUntil: z.number().int() }), attempts: 3, backoffMs: 10 },
);
/** Waits for its signal (cancel). */
const waiting = makeJob<Record<string, never>>(
  (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true })),
  { schema: z.object({}) },
);
const handlers = { traced, waiting };

describe('tracing of jobs (SPEC §15)', () => {
  const tracing = startInMemoryTracing();
  let prefix: string;
  let client: JobClient<typeof handlers>;
  let worker: JobWorker;
  let lines: CapturedLog[];

  afterAll(() => tracing.stop());
  beforeEach(async () => {
    tracing.exporter.reset();
    prefix = testPrefix('tracing');
    client = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
    const captured = captureLogger('info');
    lines = captured.lines;
    worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, logger: captured.log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  const byName = (name: string) => tracing.spans().filter((s) => s.name === name);
  const finished = (id: string, state: 'completed' | 'failed' | 'cancelled') => sleepUntil(async () => (await client.getJob(id))?.state === state);

  it('puts producer, every run (retries with their attempt) and the handler span in the caller trace', async () => {
    const request = handlerTracer.startSpan('request');
    const id = await context.with(trace.setSpan(context.active(), request), () => client.enqueueJob('traced', { failUntil: 1 }));
    request.end();
    await finished(id, 'completed');
    await sleepUntil(() => byName('process jobs').length === 2);

    const traceId = request.spanContext().traceId;
    const [producer] = byName('send jobs');
    expect(producer).toBeDefined();
    expect(producer!.kind).toBe(SpanKind.PRODUCER);
    expect(producer!.spanContext().traceId).toBe(traceId);
    expect(parentOf(producer!)).toBe(request.spanContext().spanId);
    expect(producer!.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.destination.name': 'jobs', 'messaging.message.id': id, 'jobs.handler': 'traced', 'jobs.type': 'adhoc' });

    const runs = byName('process jobs').sort((a, b) => Number(a.attributes['jobs.attempt']) - Number(b.attributes['jobs.attempt']));
    for (const run of runs) {
      expect(run.kind).toBe(SpanKind.CONSUMER);
      expect(run.spanContext().traceId).toBe(traceId);
      expect(parentOf(run)).toBe(producer!.spanContext().spanId);
      expect(run.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.operation.type': 'process', 'messaging.message.id': id, 'jobs.handler': 'traced', 'jobs.type': 'adhoc', 'jobs.max_attempts': 3 });
    }
    expect(runs.map((r) => [r.attributes['jobs.attempt'], r.attributes['jobs.outcome'], r.status.code])).toEqual([
      [1, 'retrying', SpanStatusCode.ERROR],
      [2, 'completed', SpanStatusCode.UNSET],
    ]);
    expect(runs[0]!.events.some((e) => e.name === 'exception')).toBe(true);

    const work = byName('handler work');
    expect(work).toHaveLength(2);
    expect(work.map(parentOf).sort()).toEqual(runs.map((r) => r.spanContext().spanId).sort());

    // Log lines written while a run is active carry its ids.
    const logged = lines.filter((l) => l.msg === 'inside the handler');
    expect(logged).toHaveLength(2);
    expect(logged.every((l) => l.trace_id === traceId)).toBe(true);
    expect(new Set(logged.map((l) => l.span_id))).toEqual(new Set(work.map((w) => w.spanContext().spanId)));
    // So does the worker's own line about the failed attempt, with the run's span.
    const failedLine = lines.find((l) => l.msg === 'job failed');
    expect(failedLine).toMatchObject({ trace_id: traceId, span_id: runs[0]!.spanContext().spanId });
  });

  it('marks the last failed attempt failed and a cancelled run cancelled', async () => {
    const failedId = await client.enqueueJob('traced', { failUntil: 9 });
    await finished(failedId, 'failed');
    const waitId = await client.enqueueJob('waiting', {});
    await sleepUntil(async () => (await client.getJob(waitId))?.state === 'active');
    await client.cancelJob(waitId);
    await finished(waitId, 'cancelled');
    await sleepUntil(() => byName('process jobs').length === 4);
    const outcome = (id: string) => byName('process jobs').filter((s) => s.attributes['messaging.message.id'] === id).map((s) => s.attributes['jobs.outcome']);
    expect(outcome(failedId).sort()).toEqual(['failed', 'retrying', 'retrying']);
    expect(outcome(waitId)).toEqual(['cancelled']);
    // Each enqueue without an active span starts a trace of its own.
    const producers = byName('send jobs');
    expect(producers.every((p) => parentOf(p) === undefined)).toBe(true);
  });

  it('gives a batch one producer span per queue, parent of every job run', async () => {
    const ids = await client.enqueueJobs([
      { handler: 'traced', payload: { failUntil: 0 } },
      { handler: 'traced', payload: { failUntil: 0 } },
      { handler: 'traced', payload: { failUntil: 0 } },
    ]);
    for (const id of ids) await finished(id, 'completed');
    await sleepUntil(() => byName('process jobs').length === 3);
    const producers = byName('send jobs');
    expect(producers).toHaveLength(1);
    expect(producers[0]!.attributes).toMatchObject({ 'messaging.batch.message_count': 3, 'messaging.operation.name': 'addBulk' });
    expect(byName('process jobs').map(parentOf)).toEqual(Array(3).fill(producers[0]!.spanContext().spanId));
  });

  it('starts a new trace for a job stored without a trace context (a cron tick)', async () => {
    const raw = new Queue('jobs', { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      const job = await raw.add('traced', makeEnvelope({ failUntil: 0 }, 'cron', 'row-1'));
      await finished(job.id!, 'completed');
      await sleepUntil(() => byName('process jobs').length === 1);
      const [run] = byName('process jobs');
      expect(parentOf(run!)).toBeUndefined();
      expect(run!.attributes['jobs.type']).toBe('cron');
    } finally {
      await raw.close();
    }
  });
});
