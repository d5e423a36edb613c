import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, JobsApiError, JobsWaitTimeoutError, type JobsClient } from '../src/index.js';
import { startLiveApi, type LiveApi } from './helpers/live-api.js';

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

describe('createJobsClient against the real API in-process (app.request as fetch)', () => {
  let api: LiveApi;
  let jobs: JobsClient;
  beforeAll(async () => {
    api = await startLiveApi();
    jobs = createJobsClient({ baseUrl: 'http://in-process.test', fetch: async (request) => api.t.app.request(request) });
  });
  afterAll(() => api?.close());

  it('enqueues a typed job and reads it back', async () => {
    const enqueued = await jobs.enqueue('echo', { message: 'in-process' }, { delay: 60_000, attempts: 2 });
    expect(enqueued).toMatchObject({ handler: 'echo', type: 'adhoc' });
    const job = await jobs.getJob(enqueued.id);
    expect(job).toMatchObject({ id: enqueued.id, handler: 'echo', state: 'delayed', maxAttempts: 2, payload: { message: 'in-process' } });
  });

  it('a bad payload is a JobsApiError naming the field, with the request id', async () => {
    const err = await jobs.enqueue('echo', { message: 42 } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsApiError);
    expect(err).toMatchObject({ status: 400, title: 'Bad Request', field: 'body.payload.message', requestId: expect.any(String) });
    expect((err as JobsApiError).detail).toContain('body.payload.message');
  });

  it('an unknown job is a 404 JobsApiError', async () => {
    await expect(jobs.getJob('no-such-job')).rejects.toMatchObject({ name: 'JobsApiError', status: 404, type: 'about:blank' });
  });

  it('enqueueBatch adds every job in one call', async () => {
    const before = await api.jobCount();
    const batch = await jobs.enqueueBatch([
      { handler: 'echo', payload: { message: 'a' }, options: { delay: 60_000 } },
      { handler: 'echo', payload: { message: 'b' }, options: { delay: 60_000 } },
    ]);
    expect(batch.jobs).toHaveLength(2);
    expect(await api.jobCount()).toBe(before + 2);
  });

  it('cancelJob removes a delayed job', async () => {
    const { id } = await jobs.enqueue('echo', { message: 'cancel me' }, { delay: 60_000 });
    await expect(jobs.cancelJob(id)).resolves.toEqual({ id, status: 'removed' });
    expect(await api.t.deps.jobs.queue.getJob(id)).toBeUndefined();
  });

  it('cron jobs: create, list, get, update, trigger, remove', async () => {
    const created = await jobs.cron.create({ name: 'client nightly', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'night' } });
    expect(created).toMatchObject({ name: 'client nightly', enabled: true });
    expect((await jobs.cron.list()).items.map((c) => c.id)).toContain(created.id);
    expect(await jobs.cron.get(created.id)).toMatchObject({ id: created.id, pattern: '0 3 * * *' });
    expect(await jobs.cron.update(created.id, { enabled: false })).toMatchObject({ enabled: false });
    const triggered = await jobs.cron.trigger(created.id);
    expect(triggered).toMatchObject({ handler: 'echo', type: 'cronTrigger', cronJobId: created.id });
    expect((await api.t.deps.jobs.queue.getJob(triggered.id))?.name).toBe('echo');
    await jobs.cron.remove(created.id);
    await expect(jobs.cron.get(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('webhook subscriptions: create (secret once), list, attempt log, replay, remove', async () => {
    const sub = await jobs.webhooks.create({ url: 'https://example.com/hook', events: ['cronJob.*'] });
    expect(sub.secret).toMatch(/^whsec_/);
    expect((await jobs.webhooks.list()).items.map((s) => s.id)).toContain(sub.id);
    expect(await jobs.webhooks.get(sub.id)).toMatchObject({ id: sub.id, enabled: true });

    // One recorded attempt, as a worker would have written it.
    const [row] = await api.t.database.db
      .insertInto('webhook_event')
      .values({
        subscription_id: sub.id,
        webhook_id: 'evt_client',
        job_id: 'job-1',
        attempt: 1,
        action: 'create',
        resource: 'cronJob',
        resource_id: 'r-1',
        request_body: { id: 'evt_client', type: 'cronJob.create', resource: 'cronJob', action: 'create', resourceId: 'r-1', occurredAt: new Date().toISOString(), data: {} },
        response_status: 500,
        response_body: 'oops',
        error: 'http_5xx',
        duration_ms: 12,
        success: false,
      })
      .returning('id')
      .execute();
    const log = await jobs.webhooks.attempts(sub.id);
    expect(log.items).toEqual([expect.objectContaining({ id: row!.id, success: false, error: 'http_5xx', responseStatus: 500 })]);
    const replayed = await jobs.webhooks.replay(row!.id);
    expect(replayed.jobId).toEqual(expect.any(String));
    expect((await api.t.deps.jobs.queue.getJob(replayed.jobId))?.name).toBe('sendWebhook');

    await jobs.webhooks.remove(sub.id);
    await expect(jobs.webhooks.get(sub.id)).rejects.toMatchObject({ status: 404 });
    await expect(jobs.webhooks.replay(UNKNOWN_UUID)).rejects.toMatchObject({ status: 404 });
  });
});

describe('createJobsClient over a real socket, with auth and a worker', () => {
  let api: LiveApi;
  beforeAll(async () => {
    api = await startLiveApi({ auth: true, worker: true });
  });
  afterAll(() => api?.close());

  it('enqueue then waitForJob returns the completed job and its result', async () => {
    const jobs = createJobsClient({ baseUrl: api.url, token: api.token! });
    const { id } = await jobs.enqueue('echo', { message: 'over the wire' });
    const done = await jobs.waitForJob(id, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ id, state: 'completed', result: { message: 'over the wire' } });
  });

  it('getToken is asked for the token of each request', async () => {
    let asked = 0;
    const jobs = createJobsClient({ baseUrl: `${api.url}/`, getToken: async () => (asked++, api.token) });
    await jobs.listHandlers();
    const handlers = await jobs.listHandlers();
    expect(handlers.map((h) => h.name)).toContain('echo');
    expect(asked).toBe(2);
  });

  it('without a token the API answers 401, as a JobsApiError', async () => {
    const jobs = createJobsClient({ baseUrl: api.url });
    const err = await jobs.getJob('1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsApiError);
    expect(err).toMatchObject({ status: 401, requestId: expect.any(String) });
  });

  it('waitForJob gives up at timeoutMs with a JobsWaitTimeoutError naming the last state', async () => {
    const jobs = createJobsClient({ baseUrl: api.url, token: api.token! });
    const { id } = await jobs.enqueue('echo', { message: 'later' }, { delay: 600_000 });
    const err = await jobs.waitForJob(id, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsWaitTimeoutError);
    expect(err).toMatchObject({ status: 0, type: 'urn:jobs:client:wait-timeout', jobId: id, lastState: 'delayed' });
    await jobs.cancelJob(id);
  });

  it('waitForJob stops when the caller aborts, with the signal’s reason', async () => {
    const jobs = createJobsClient({ baseUrl: api.url, token: api.token! });
    const { id } = await jobs.enqueue('echo', { message: 'later' }, { delay: 600_000 });
    const controller = new AbortController();
    const waiting = jobs.waitForJob(id, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    await jobs.cancelJob(id);
  });
});
