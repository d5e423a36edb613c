import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type JobClient } from '../../../shared/src/index.js';
import { captureLogger, sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const FOREIGN = 'https://evil.example';
const OWN = 'http://localhost'; // app.request's URLs are http://localhost/…
const basic = { authorization: `Basic ${Buffer.from('ops:board-pass').toString('base64')}` };

/** BullBoard's state-changing routes (PUT/POST in @bull-board/api), for the queue `jobs` and job `id`. */
const actions = (id: string) => [
  ['PUT', `/bullBoard/api/queues/jobs/${id}/retry`],
  ['PUT', '/bullBoard/api/queues/jobs/retry/failed'],
  ['PUT', '/bullBoard/api/queues/jobs/clean/failed'],
  ['PUT', `/bullBoard/api/queues/jobs/${id}/clean`],
  ['PUT', '/bullBoard/api/queues/jobs/pause'],
  ['PUT', '/bullBoard/api/queues/pause'],
  ['PUT', '/bullBoard/api/queues/jobs/empty'],
  ['POST', '/bullBoard/api/queues/jobs/add'],
] as const;

describe.each([
  ['open (local, no credentials)', { APP_ENV: 'local' }, {}],
  ['basic auth', { APP_ENV: 'local', BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'board-pass' }, basic],
])('BullBoard refuses changes from another origin (CSRF), %s', (_mode, env, auth) => {
  let t: TestApp;
  let failedId: string;
  const client = () => t.deps.jobs as unknown as JobClient<typeof testHandlers>;
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    t.app.request(path, { method, headers: { ...auth, ...headers }, ...(body !== undefined ? { body } : {}) });
  /** What a refused request must not have changed: the failed job, the queue's counts, not paused. */
  const snapshot = async () => ({
    state: (await client().getJob(failedId))?.state,
    paused: await client().queue.isPaused(),
    counts: await client().queue.getJobCounts('failed', 'waiting', 'delayed', 'prioritized'),
  });

  beforeAll(async () => {
    t = await createTestApp({ env, handlers: testHandlers });
    const worker = createWorker({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    failedId = await client().enqueueJob('failing', { list: `${t.prefix}:runs` }, { attempts: 1 });
    await sleepUntil(async () => (await client().getJob(failedId))?.state === 'failed', { message: 'job failed' });
    await worker.close();
  }, 30_000);
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['a text/plain form post from a foreign page', { 'content-type': 'text/plain', origin: FOREIGN }],
    ['a urlencoded form post from a foreign page', { 'content-type': 'application/x-www-form-urlencoded', origin: FOREIGN }],
    ['a multipart form post from a foreign page', { 'content-type': 'multipart/form-data; boundary=x', origin: FOREIGN }],
    ['a text/plain form post with Sec-Fetch-Site: cross-site and no Origin', { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' }],
    ['a text/plain form post with only a foreign Referer', { 'content-type': 'text/plain', referer: `${FOREIGN}/attack.html` }],
    ['a text/plain form post with no Origin, Sec-Fetch-Site nor Referer', { 'content-type': 'text/plain' }],
    ['JSON with a foreign Origin', { 'content-type': 'application/json', origin: FOREIGN }],
    ['JSON with Origin: null (sandboxed frame)', { 'content-type': 'application/json', origin: 'null' }],
    ['JSON with Sec-Fetch-Site: cross-site', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }],
    ['JSON with Sec-Fetch-Site: same-site (a sibling subdomain)', { 'content-type': 'application/json', 'sec-fetch-site': 'same-site', origin: 'http://other.localhost' }],
    ['JSON whose Origin matches but Sec-Fetch-Site says cross-site', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', origin: OWN }],
    ['JSON with only a foreign Referer', { 'content-type': 'application/json', referer: `${FOREIGN}/attack.html` }],
  ])('%s: 403 problem+json on every action, and the queue is unchanged in Redis', async (_name, headers) => {
    const before = await snapshot();
    expect(before).toMatchObject({ state: 'failed', paused: false });
    for (const [method, path] of actions(failedId)) {
      const res = await send(method, path, headers, JSON.stringify({ name: 'failing', data: { list: 'x' } }));
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/refused/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('reads stay open to any origin (GET is not a change)', async () => {
    const res = await send('GET', '/bullBoard/api/queues', { origin: FOREIGN, 'sec-fetch-site': 'cross-site' });
    expect(res.status).toBe(200);
  });

  it('same-origin requests, as BullBoard\'s UI sends them, still pause, resume and retry', async () => {
    const ui = { origin: OWN, 'sec-fetch-site': 'same-origin', referer: `${OWN}/bullBoard/queue/jobs` };
    expect((await send('PUT', '/bullBoard/api/queues/jobs/pause', ui)).status).toBe(200);
    expect(await client().queue.isPaused()).toBe(true);
    expect((await send('PUT', '/bullBoard/api/queues/jobs/resume', { ...ui, 'content-type': 'application/json' }, '{}')).status).toBe(200);
    expect(await client().queue.isPaused()).toBe(false);
    // A non-browser client (curl with JSON) sends no Origin: a browser could not forge that.
    expect((await send('PUT', '/bullBoard/api/queues/jobs/pause', { 'content-type': 'application/json' }, '{}')).status).toBe(200);
    expect(await client().queue.isPaused()).toBe(true);
    expect((await send('PUT', '/bullBoard/api/queues/jobs/resume', ui)).status).toBe(200);
    // Behind a TLS-terminating proxy the browser's origin is https, the socket http.
    const proxied = { origin: 'https://jobs.example.com', 'sec-fetch-site': 'same-origin', host: 'jobs.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'jobs.example.com' };
    expect((await send('PUT', '/bullBoard/api/queues/jobs/pause', proxied)).status).toBe(200);
    expect((await send('PUT', '/bullBoard/api/queues/jobs/resume', proxied)).status).toBe(200);
    expect((await send('PUT', `/bullBoard/api/queues/jobs/${failedId}/retry`, ui)).status).toBe(204);
    await sleepUntil(async () => (await client().getJob(failedId))?.state === 'waiting', { message: 'job retried' });
  });
});
