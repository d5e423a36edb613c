import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookHttpClient } from '../../src/webhooks/index.js';
import { contextOf, carrierOf } from '../../src/tracing/index.js';
import { parentOf, startInMemoryTracing } from './in-memory-tracing.js';

describe('webhook delivery client spans (SPEC §15)', () => {
  const tracing = startInMemoryTracing();
  const received: IncomingHttpHeaders[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(req.url?.includes('fail') ? 503 : 204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await tracing.stop();
  });

  it('makes a CLIENT span per attempt under the active span and sends its traceparent; the URL loses its path and query', async () => {
    const http = createWebhookHttpClient({ timeoutMs: 5_000, allowPrivateNetworks: true });
    const run = trace.getTracer('test').startSpan('run');
    const ctx = trace.setSpan(context.active(), run);
    try {
      const ok = await context.with(ctx, () => http.post(`${base}/hooks/T0SECRET?token=x`, '{}', { 'content-type': 'application/json' }));
      const failed = await context.with(ctx, () => http.post(`${base}/fail`, '{}', {}));
      expect([ok.status, failed.status]).toEqual([204, 503]);
    } finally {
      run.end();
      await http.close();
    }
    const clients = tracing.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients).toHaveLength(2);
    for (const [i, span] of clients.entries()) {
      expect(span.name).toBe('POST');
      expect(parentOf(span)).toBe(run.spanContext().spanId);
      expect(received[i]!.traceparent).toBe(`00-${run.spanContext().traceId}-${span.spanContext().spanId}-01`);
      expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.full': base, 'server.address': '127.0.0.1' });
    }
    expect(clients[0]!.attributes['http.response.status_code']).toBe(204);
    expect(clients[0]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(clients[1]!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(clients[1]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('round-trips a context through the carrier stored with jobs and outbox rows; junk starts a new trace', () => {
    const span = trace.getTracer('test').startSpan('mutation');
    const carrier = carrierOf(trace.setSpan(context.active(), span))!;
    span.end();
    expect(carrier.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(trace.getSpanContext(contextOf(carrier))).toMatchObject({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, isRemote: true });
    for (const junk of [undefined, null, 'x', { traceparent: 42 }, { traceparent: 'not-a-traceparent' }, { traceparent: 'x'.repeat(100) }]) {
      expect(trace.getSpanContext(contextOf(junk))).toBeUndefined();
    }
  });
});
