import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorker, jobHandlers, type JobWorker } from '../../../shared/src/index.js';
import { captureLogger, sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

type Problem = { status: number; field?: string; detail?: string; errors?: { field: string }[]; knownHandlers?: string[] };

describe('job routes', () => {
  let t: TestApp;
  let worker: JobWorker | undefined;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await t.close();
  });

  it('POST /api/admin/job enqueues and answers 201 {id, handler, type}; GET shows it run to completion', async () => {
    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    const res = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'hi' }, options: { attempts: 2 } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string };
    expect(body).toEqual({ id: expect.any(String), handler: 'echo', type: 'adhoc' });
    const done = await sleepUntil(async () => {
      const r = await t.call('GET', `/api/admin/job/${body.id}`);
      const job = (await r.json()) as { state: string };
      return job.state === 'completed' && job;
    });
    expect(done).toMatchObject({ id: body.id, handler: 'echo', type: 'adhoc', state: 'completed', attemptsMade: 1, maxAttempts: 2, result: { message: 'hi' }, payload: { message: 'hi' } });
    expect(done).toHaveProperty('createdAt');
    expect(done).toHaveProperty('finishedAt');
  });

  it('passes delay, priority and dedupeKey through', async () => {
    const a = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'a' }, options: { delay: 60_000, dedupeKey: 'k' } })).json()) as { id: string };
    const b = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'b' }, options: { dedupeKey: 'k' } })).json()) as { id: string };
    expect(b.id).toBe(a.id);
    expect(((await (await t.call('GET', `/api/admin/job/${a.id}`)).json()) as { state: string }).state).toBe('delayed');
    const p = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'p' }, options: { priority: 3 } })).json()) as { id: string };
    expect(((await (await t.call('GET', `/api/admin/job/${p.id}`)).json()) as { state: string }).state).toBe('prioritized');
  });

  it.each([
    [{ payload: { message: 'x' } }, 'body.handler'],
    [{ handler: 'echo', payload: { message: 5 } }, 'body.payload.message'],
    [{ handler: 'echo', payload: {} }, 'body.payload.message'],
    [{ handler: 'echo', payload: { message: 'x' }, options: { delay: -5 } }, 'body.options.delay'],
    [{ handler: 'echo', payload: { message: 'x' }, options: { priority: 'high' } }, 'body.options.priority'],
    [{ handler: 'echo', payload: { message: 'x' }, options: { retries: 3 } }, 'body.options.retries'],
    [{ handler: 'echo', payload: { message: 'x' }, extra: true }, 'body.extra'],
  ])('400 for %j naming %s, and nothing is enqueued', async (body, field) => {
    const res = await t.call('POST', '/api/admin/job', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as Problem).field).toBe(field);
    expect(await t.deps.jobs.queue.count()).toBe(0);
  });

  it('400 for an unknown handler lists the known ones', async () => {
    const res = await t.call('POST', '/api/admin/job', { handler: 'nope', payload: {} });
    expect(res.status).toBe(400);
    expect((await res.json()) as Problem).toMatchObject({ field: 'body.handler', knownHandlers: Object.keys(jobHandlers) });
  });

  it('400 for malformed JSON, 415 for a non-JSON body, 413 above 1 MiB', async () => {
    expect((await t.call('POST', '/api/admin/job', '{"handler":')).status).toBe(400);
    const form = await t.call('POST', '/api/admin/job', 'handler=echo', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.headers.get('content-type')).toBe('application/problem+json');
    // Chunked (no Content-Length): counted as it streams.
    const huge = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x'.repeat(1024 * 1024) } });
    expect(huge.status).toBe(413);
    // With a Content-Length the header decides before anything is read.
    const announced = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } }, { headers: { 'content-length': String(2 * 1024 * 1024) } });
    expect(announced.status).toBe(413);
    expect(await t.deps.jobs.queue.count()).toBe(0);
  });

  it('Idempotency-Key: the same request returns the same job; another body with the key is 422', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const body = { handler: 'echo', payload: { message: 'once' } };
    const first = (await (await t.call('POST', '/api/admin/job', body, { headers })).json()) as { id: string };
    const again = await t.call('POST', '/api/admin/job', body, { headers });
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ id: first.id, idempotentReplay: true });
    expect(await t.deps.jobs.queue.count()).toBe(1);
    const other = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'twice' } }, { headers });
    expect(other.status).toBe(422);
    expect(((await other.json()) as Problem).field).toBe('header.idempotency-key');
  });

  it('GET 404 for an unknown id and 400 for a hostile one', async () => {
    expect((await t.call('GET', '/api/admin/job/999999')).status).toBe(404);
    const hostile = await t.call('GET', `/api/admin/job/${encodeURIComponent('../../etc/passwd')}`);
    expect([400, 404]).toContain(hostile.status);
  });

  it('DELETE removes a waiting job (200), is 409 once finished and 404 when unknown', async () => {
    const { id } = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } })).json()) as { id: string };
    const res = await t.call('DELETE', `/api/admin/job/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, status: 'removed' });
    expect((await t.call('GET', `/api/admin/job/${id}`)).status).toBe(404);
    expect((await t.call('DELETE', '/api/admin/job/424242')).status).toBe(404);

    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    const done = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'y' } })).json()) as { id: string };
    await sleepUntil(async () => (await t.deps.jobs.getJob(done.id))?.state === 'completed');
    expect((await t.call('DELETE', `/api/admin/job/${done.id}`)).status).toBe(409);
  });

  it('DELETE aborts a running job (202) and it ends cancelled', async () => {
    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    const { id } = (await (await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'long', delayMs: 60_000 } })).json()) as { id: string };
    await sleepUntil(async () => (await t.deps.jobs.getJob(id))?.state === 'active');
    const res = await t.call('DELETE', `/api/admin/job/${id}`);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id, status: 'aborting' });
    await sleepUntil(async () => (await t.deps.jobs.getJob(id))?.state === 'cancelled', { message: 'job cancelled' });
  });

  it('GET /api/admin/handler lists handlers with pattern and payload JSON Schema', async () => {
    const res = await t.call('GET', '/api/admin/handler');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { name: string; pattern: string; payloadSchema: { properties?: Record<string, unknown>; required?: string[] } }[] };
    const echo = items.find((h) => h.name === 'echo')!;
    expect(echo.pattern).toBe('basic');
    expect(echo.payloadSchema.required).toEqual(['message']);
    expect(Object.keys(echo.payloadSchema.properties!)).toEqual(['message', 'delayMs']);
  });
});

describe('job routes with Redis down', () => {
  it('answer 503 (not 500, not a hang), and /readyz names redis', async () => {
    const t = await createTestApp({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const post = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } });
      expect(post.status).toBe(503);
      expect(post.headers.get('retry-after')).toBe('5');
      expect(((await post.json()) as Problem).detail).toMatch(/Redis/);
      expect((await t.call('GET', '/api/admin/job/1')).status).toBe(503);
      const ready = await t.call('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ down: ['redis'] });
    } finally {
      await t.close();
    }
  });
});
