import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, JobsApiError, JobsNetworkError } from '../src/index.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../src/retry.js';
import { startFlakyProxy, type FlakyProxy, type ProxyAction } from './helpers/flaky-proxy.js';
import { startLiveApi, type LiveApi } from './helpers/live-api.js';

const FORWARD: ProxyAction = { kind: 'forward' };
/** Fast backoff so the tests do not wait on it. */
const retries = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 };

describe('retries: network errors, 503 and 429, with one Idempotency-Key per enqueue', () => {
  let api: LiveApi;
  let proxy: FlakyProxy | undefined;
  beforeAll(async () => {
    api = await startLiveApi();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await api.t.deps.jobs.queue.obliterate({ force: true });
  });
  afterAll(() => api?.close());

  it('a 503 (Retry-After: 0) then the real 201 gives exactly one job; both tries carried the same key', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'answer', status: 503, headers: { 'retry-after': '0' } } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    const { id } = await jobs.enqueue('echo', { message: 'once' });
    expect(proxy.seen).toHaveLength(2);
    expect(proxy.seen[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(proxy.seen[1]!.idempotencyKey).toBe(proxy.seen[0]!.idempotencyKey);
    expect(await api.jobCount()).toBe(1);
    expect((await api.t.deps.jobs.queue.getJob(id))?.data).toMatchObject({ payload: { message: 'once' } });
  });

  it('the API enqueued but its answer was lost (503 instead): the retry replays the same job, no second one', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'forward-then-answer', status: 503, headers: { 'retry-after': '0' } } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    const enqueued = await jobs.enqueue('echo', { message: 'lost answer' });
    expect(enqueued.idempotentReplay).toBe(true);
    expect(await api.jobCount()).toBe(1);
  });

  it('the connection dies after the API enqueued: the enqueue is retried (it has a key) and still one job', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'forward-then-reset' } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    await jobs.enqueue('echo', { message: 'reset' });
    expect(proxy.seen).toHaveLength(2);
    expect(await api.jobCount()).toBe(1);
  });

  it('two enqueue calls are two logical enqueues: two keys, two jobs', async () => {
    proxy = await startFlakyProxy(api.url, () => FORWARD);
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    await jobs.enqueue('echo', { message: 'a' });
    await jobs.enqueue('echo', { message: 'a' });
    expect(new Set(proxy.seen.map((r) => r.idempotencyKey)).size).toBe(2);
    expect(await api.jobCount()).toBe(2);
  });

  it('a caller-given idempotencyKey is sent as is', async () => {
    proxy = await startFlakyProxy(api.url, () => FORWARD);
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    const first = await jobs.enqueue('echo', { message: 'k' }, { idempotencyKey: 'order-42' });
    const second = await jobs.enqueue('echo', { message: 'k' }, { idempotencyKey: 'order-42' });
    expect(proxy.seen.map((r) => r.idempotencyKey)).toEqual(['order-42', 'order-42']);
    expect(second).toMatchObject({ id: first.id, idempotentReplay: true });
  });

  it('429 on a read is retried after Retry-After', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'answer', status: 429, headers: { 'retry-after': '0' } } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    expect((await jobs.listHandlers()).map((h) => h.name)).toContain('echo');
    expect(proxy.seen).toHaveLength(2);
  });

  it('when every try gets 503 the last answer is the error, after 1 + retries tries', async () => {
    proxy = await startFlakyProxy(api.url, () => ({ kind: 'answer', status: 503, headers: { 'retry-after': '0' } }));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries: { ...retries, retries: 2 } });
    const err = await jobs.enqueue('echo', { message: 'never' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsApiError);
    expect(err).toMatchObject({ status: 503 });
    expect(proxy.seen).toHaveLength(3);
    expect(await api.jobCount()).toBe(0);
  });

  it('retries: 0 turns them off', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'answer', status: 503, headers: { 'retry-after': '0' } } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries: 0 });
    await expect(jobs.enqueue('echo', { message: 'x' })).rejects.toMatchObject({ status: 503 });
    expect(proxy.seen).toHaveLength(1);
  });

  it('a POST without an Idempotency-Key is not resent after a network error (it may have been done)', async () => {
    proxy = await startFlakyProxy(api.url, (_req, n) => (n === 0 ? { kind: 'forward-then-reset' } : FORWARD));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    const err = await jobs.cron.create({ name: 'once', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsNetworkError);
    expect(err).toMatchObject({ status: 0, type: 'urn:jobs:client:network-error' });
    expect(proxy.seen).toHaveLength(1);
  });

  it('an unreachable API is a JobsNetworkError after the retries', async () => {
    const jobs = createJobsClient({ baseUrl: 'http://127.0.0.1:1', retries });
    await expect(jobs.getJob('1')).rejects.toBeInstanceOf(JobsNetworkError);
  });

  it('an abort during the backoff wait stops the retries', async () => {
    proxy = await startFlakyProxy(api.url, () => ({ kind: 'answer', status: 503, headers: { 'retry-after': '30' } }));
    const jobs = createJobsClient({ baseUrl: proxy.url, retries });
    const controller = new AbortController();
    const call = jobs.getJob('1', { signal: controller.signal });
    // Once the first 503 is in, the client is waiting its 30 s out.
    await expect.poll(() => proxy!.seen.length).toBe(1);
    controller.abort(new Error('stop'));
    await expect(call).rejects.toThrow('stop');
    expect(proxy.seen).toHaveLength(1);
  });
});

describe('backoff arithmetic', () => {
  it('Retry-After in seconds or as an HTTP date; nothing for garbage', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Mon, 07 Dec 2026 12:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Mon, 07 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('exponential with jitter between half and all of the step, capped; Retry-After wins', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(retryDelayMs(0, policy, null, 0, () => 0)).toBe(50);
    expect(retryDelayMs(0, policy, null, 0, () => 1)).toBe(100);
    expect(retryDelayMs(2, policy, null, 0, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, null, 0, () => 1)).toBe(1_000);
    expect(retryDelayMs(10, policy, '2', 0, () => 1)).toBe(2_000);
  });
});
