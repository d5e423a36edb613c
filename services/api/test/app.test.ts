import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('api app: health, errors, OpenAPI', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('answers /healthz with 200, with or without a trailing slash', async () => {
    for (const path of ['/healthz', '/healthz/']) {
      const res = await t.call('GET', path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    }
  });

  it('answers /readyz with 200 when Redis and the database answer', async () => {
    const res = await t.call('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { redis: 'ok', db: 'ok' } });
  });

  it('answers /readyz with 503 naming a failing or hanging check, without its error', async () => {
    t.deps.checks.db = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
    };
    t.deps.checks.slow = () => new Promise(() => {});
    const res = await t.call('GET', '/readyz');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable', checks: { redis: 'ok', db: 'down', slow: 'down' }, down: ['db', 'slow'] });
    expect(text).not.toContain('10.0.0.7');
    expect(t.lines.find((l) => l.msg === 'not ready')).toMatchObject({ down: ['db', 'slow'] });
  });

  it('answers unknown routes with 404 and a known route with the wrong method with 405 + Allow', async () => {
    const missing = await t.call('POST', '/no/such/route');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no route for POST /no/such/route' });

    const wrongMethod = await t.call('PUT', '/api/admin/job/123', {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('DELETE, GET');
    expect(wrongMethod.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers an unexpected error with a 500 problem document that leaks nothing, and logs it', async () => {
    t.app.get('/boom', () => {
      throw new Error('password=hunter2 at /srv/secret.ts');
    });
    const res = await t.call('GET', '/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(text).not.toContain('hunter2');
    expect(t.lines.find((l) => l.msg === 'unhandled error')).toMatchObject({ path: '/boom' });
  });

  it('echoes a sane X-Request-Id, replaces a hostile one, and logs each request with it', async () => {
    const res = await t.call('GET', '/api/admin/handler', undefined, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const hostile = await t.call('GET', '/api/admin/handler', undefined, { headers: { 'x-request-id': '<script> ' + 'x'.repeat(300) } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.lines.find((l) => l.msg === 'request' && l.requestId === 'abc-123')).toMatchObject({ method: 'GET', path: '/api/admin/handler', status: 200, actor: 'anonymous' });
  });

  it('serves Prometheus metrics', async () => {
    await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } });
    const res = await t.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/queue_jobs\{queue="jobs",state="waiting",service="api"\} 1/);
  });

  it('serves an OpenAPI 3.1 document covering the routes, and a docs page', async () => {
    const res = await t.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/api/admin/job']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/admin/job/{id}']!).sort()).toEqual(['delete', 'get']);
    expect(doc.paths['/api/admin/handler']).toBeDefined();
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(Object.keys(doc.paths[path] ?? {}), path).toEqual(['get']);
    const docs = await t.call('GET', '/api/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/api/openapi.json');
  });
});
