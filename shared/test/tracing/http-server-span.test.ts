import { SpanKind, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { urlAttributes, withServerSpan } from '../../src/tracing/http-server-span.js';
import { parentOf, startInMemoryTracing } from './in-memory-tracing.js';

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';

describe('withServerSpan', () => {
  let tracing: ReturnType<typeof startInMemoryTracing>;
  beforeEach(() => {
    tracing = startInMemoryTracing();
  });
  afterEach(async () => {
    await tracing.stop();
  });

  const serve = (url: string, headers: Record<string, string>, status = 201) =>
    withServerSpan(trace.getTracer('test'), { method: 'POST', url, headers: new Headers(headers) }, async () => status, () => '/api/admin/job/:id');

  it('names the span by route and records the URL parts, user agent and status', async () => {
    await serve('http://Api.Example:8080/api/admin/job/42?x=1', { 'user-agent': 'curl/8' });
    const [span] = tracing.spans();
    expect(span).toMatchObject({ name: 'POST /api/admin/job/:id', kind: SpanKind.SERVER });
    expect(span!.attributes).toEqual({
      'http.request.method': 'POST',
      'url.path': '/api/admin/job/42',
      'url.scheme': 'http',
      'server.address': 'api.example',
      'user_agent.original': 'curl/8',
      'http.route': '/api/admin/job/:id',
      'http.response.status_code': 201,
    });
    expect(parentOf(span!)).toBeUndefined();
  });

  it('continues an incoming traceparent, and starts a trace without one', async () => {
    await serve('http://127.0.0.1/api/admin/job/1', { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` });
    await serve('http://127.0.0.1/api/admin/job/2', {});
    const [child, root] = tracing.spans();
    expect(child!.spanContext().traceId).toBe(PARENT_TRACE);
    expect(parentOf(child!)).toBe(PARENT_SPAN);
    expect(root!.spanContext().traceId).not.toBe(PARENT_TRACE);
    expect(parentOf(root!)).toBeUndefined();
  });
});

describe('urlAttributes', () => {
  it('slices what new URL() would give for the URLs a server sees', () => {
    for (const url of ['http://127.0.0.1:3000/api/admin/job', 'https://user:pw@Host.example/a/b?q=1#f', 'http://[::1]:8080/x', 'http://h', 'http://h?q']) {
      const parsed = new URL(url);
      expect(urlAttributes(url)).toEqual({ 'url.path': parsed.pathname, 'url.scheme': parsed.protocol.slice(0, -1), 'server.address': parsed.hostname.replace(/^\[|\]$/g, '') });
    }
  });

  it('gives no URL attributes for a relative URL', () => {
    expect(urlAttributes('/api/admin/job')).toEqual({});
  });
});
