import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, jobHandlers, makeJob, type HandlerMap, type JobWorker } from '../../../shared/src/index.js';
import { createMetricsRegistry } from '../../../shared/src/metrics/index.js';
import { captureLogger, sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { decodeJobCursor, encodeJobCursor, findJobs } from '../src/queues/job-list.js';
import { retryFailedJobs } from '../src/queues/queue-commands.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

type Problem = { status: number; field?: string; detail?: string };
type QueueView = { name: string; default: boolean; paused: boolean; counts: Record<string, number>; handlers: { name: string; limits: Record<string, unknown> }[] };
type JobView = { id: string; queue: string; handler: string; state: string; attemptsMade: number; payload: unknown };
type JobPage = { items: JobView[]; nextCursor: string | null };

/** Flipped by tests: while true, `flaky` and `brittle` throw. */
let failing = true;
const run = async (_ctx: unknown, payload: { n: number }) => {
  if (failing) throw new Error(`fails ${payload.n}`);
  return payload;
};
/** Two queues: the default `jobs` (echo, flaky, brittle, sleepy, hang) and `critical` (urgent). */
const handlers = {
  echo: jobHandlers.echo,
  flaky: makeJob(run, { attempts: 1 }),
  brittle: makeJob(run, { attempts: 1 }),
  /** Takes `ms` to run. */
  sleepy: makeJob(async (_ctx, payload: { ms: number }) => new Promise((resolve) => setTimeout(() => resolve(payload), payload.ms))),
  /** Runs until cancelled. */
  hang: makeJob(
    (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    { attempts: 1 },
  ),
  urgent: makeJob(async (_ctx, payload: { n: number }) => payload, { queue: 'critical', concurrency: { limit: 4, key: (p) => String(p.n % 2) } }),
} satisfies HandlerMap;

describe('queue admin API (SPEC §12)', () => {
  let t: TestApp;
  let worker: JobWorker | undefined;
  afterEach(async () => {
    failing = true;
    await worker?.close();
    worker = undefined;
    await t?.close();
  });

  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const enqueue = async (handler: string, payload: unknown, options?: unknown) => {
    const res = await t.call('POST', '/api/admin/job', { handler, payload, ...(options ? { options } : {}) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  /** What GET /api/admin/job/:id answers for `id` (null for 404). */
  const jobView = async (id: string) => {
    const res = await t.call('GET', `/api/admin/job/${id}`);
    if (res.status === 404) return null;
    expect(res.status, id).toBe(200);
    return (await res.json()) as JobView & { finishedAt: string };
  };
  const stateOf = async (id: string) => (await jobView(id))?.state;
  const startWorker = (metrics?: ReturnType<typeof createMetricsRegistry>) => {
    worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('fatal').log, ...(metrics ? { metrics } : {}) });
  };

  it('GET /api/admin/queue: every queue with counts by state, paused, and its handlers', async () => {
    t = await createTestApp({ handlers });
    await enqueue('urgent', { n: 1 });
    await enqueue('urgent', { n: 2 }, { delay: 60_000 });
    await enqueue('echo', { message: 'hi' });
    const { items } = await json<{ items: QueueView[] }>(t.call('GET', '/api/admin/queue'));
    expect(items.map((q) => q.name)).toEqual(['jobs', 'critical']);
    const [jobs, critical] = items as [QueueView, QueueView];
    expect(jobs).toMatchObject({ default: true, paused: false, counts: { waiting: 1, delayed: 0, failed: 0 } });
    expect(jobs.handlers.map((h) => h.name).sort()).toEqual(['brittle', 'echo', 'flaky', 'hang', 'sleepy']);
    expect(jobs.handlers.find((h) => h.name === 'echo')?.limits).toEqual({});
    expect(critical).toMatchObject({ default: false, paused: false, counts: { waiting: 1, delayed: 1, active: 0, completed: 0 } });
    expect(critical.handlers).toEqual([{ name: 'urgent', pattern: 'basic', internal: false, limits: { concurrency: { limit: 4, keyed: true } } }]);
  });

  it('pause stops every worker taking the queue’s jobs (others run on); resume starts them again', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    expect(await json<{ paused: boolean }>(t.call('POST', '/api/admin/queue/critical/pause'))).toEqual({ name: 'critical', paused: true });
    const held = await enqueue('urgent', { n: 1 });
    const other = await enqueue('echo', { message: 'runs' });
    await sleepUntil(async () => (await stateOf(other)) === 'completed', { message: 'the default queue to keep running' });
    // The worker took a job from `jobs` after `held` was waiting: a running pool skipped it.
    expect(await stateOf(held)).toBe('waiting');
    const view = await json<{ items: QueueView[] }>(t.call('GET', '/api/admin/queue'));
    expect(view.items.find((q) => q.name === 'critical')?.paused).toBe(true);

    expect(await json<{ paused: boolean }>(t.call('POST', '/api/admin/queue/critical/resume'))).toEqual({ name: 'critical', paused: false });
    await sleepUntil(async () => (await stateOf(held)) === 'completed', { message: 'the resumed queue to run its job' });
  });

  it('retry moves failed jobs back with fresh attempts, per handler and up to limit; cancelled ones stay', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    const flaky = [await enqueue('flaky', { n: 1 }), await enqueue('flaky', { n: 2 }), await enqueue('flaky', { n: 3 })];
    const brittle = await enqueue('brittle', { n: 4 });
    const hung = await enqueue('hang', {});
    await sleepUntil(async () => (await stateOf(hung)) === 'active', { message: 'the hanging job to start' });
    expect(await t.deps.jobs.cancelJob(hung)).toBe('aborting');
    await sleepUntil(async () => (await Promise.all([...flaky, brittle].map(stateOf))).every((s) => s === 'failed') && (await stateOf(hung)) === 'cancelled', {
      message: 'four to fail and one to be cancelled',
    });
    failing = false;

    expect(await json(t.call('POST', '/api/admin/queue/jobs/retry', { handler: 'flaky', limit: 2 }))).toEqual({ retried: 2 });
    const flakyStates = async () => (await Promise.all(flaky.map(stateOf))).sort();
    await sleepUntil(async () => (await flakyStates()).join() === 'completed,completed,failed', { message: 'two retried jobs to complete' });
    expect(await stateOf(brittle)).toBe('failed');
    const rerun = (await Promise.all(flaky.map(jobView))).find((j) => j?.state === 'completed');
    expect(rerun?.attemptsMade).toBe(1); // its attempts were reset: one failed run, then one that completed

    expect(await json(t.call('POST', '/api/admin/queue/jobs/retry'))).toEqual({ retried: 2 });
    await sleepUntil(async () => (await flakyStates()).every((st) => st === 'completed') && (await stateOf(brittle)) === 'completed', { message: 'the rest to complete' });
    expect(await json(t.call('POST', '/api/admin/queue/jobs/retry', {}))).toEqual({ retried: 0 });
    expect(await json(t.call('POST', '/api/admin/queue/critical/retry', {}))).toEqual({ retried: 0 });
    expect(await stateOf(hung)).toBe('cancelled');
  });

  it('retry pages through the failed set: a handler filter over many pages retries exactly its jobs', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    const ids: { handler: string; id: string }[] = [];
    for (let n = 0; n < 9; n++) ids.push({ handler: n % 3 === 0 ? 'brittle' : 'flaky', id: await enqueue(n % 3 === 0 ? 'brittle' : 'flaky', { n }) });
    await sleepUntil(async () => (await Promise.all(ids.map((j) => stateOf(j.id)))).every((s) => s === 'failed'), { message: 'nine failures' });
    await worker!.close();
    worker = undefined;
    const queue = t.deps.jobs.queues.get('jobs')!;
    // Pages of 2: the filter keeps jobs in the set, so each page must start after the ones it left.
    expect(await retryFailedJobs(t.redis, queue, { handler: 'brittle' }, 2)).toBe(3);
    expect(await retryFailedJobs(t.redis, queue, { handler: 'flaky', limit: 1 }, 2)).toBe(1);
    // Each page retries both of its jobs: the next page must start where the set now is, not 2 further.
    expect(await retryFailedJobs(t.redis, queue, { handler: 'flaky' }, 2)).toBe(5);
    const states = await Promise.all(ids.map(async (j) => stateOf(j.id)));
    expect(states.every((st) => st === 'waiting')).toBe(true);
  });

  it('clean removes finished jobs older than olderThanMs, at most limit', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => enqueue('urgent', { n })));
    await sleepUntil(async () => (await Promise.all(ids.map(stateOf))).every((s) => s === 'completed'), { message: 'five completed jobs' });
    expect(await json(t.call('POST', '/api/admin/queue/critical/clean', { state: 'completed', olderThanMs: 3_600_000 }))).toEqual({ removed: 0 });
    expect(await json(t.call('POST', '/api/admin/queue/critical/clean', { state: 'failed', olderThanMs: 0 }))).toEqual({ removed: 0 });
    const finished = Math.max(...(await Promise.all(ids.map(async (id) => Date.parse((await jobView(id))!.finishedAt)))));
    await sleepUntil(() => Date.now() > finished + 1, { message: 'the clock to pass the last finish' });
    expect(await json(t.call('POST', '/api/admin/queue/critical/clean', { state: 'completed', olderThanMs: 0, limit: 2 }))).toEqual({ removed: 2 });
    expect(await t.deps.jobs.queues.get('critical')!.getCompletedCount()).toBe(3);
    expect(await json(t.call('POST', '/api/admin/queue/critical/clean', { state: 'completed', olderThanMs: 0 }))).toEqual({ removed: 3 });
    expect(await t.deps.jobs.queues.get('critical')!.getCompletedCount()).toBe(0);
  });

  it('GET /api/admin/job lists newest first across both queues, page by page, with queue, state and handler filters', async () => {
    t = await createTestApp({ handlers });
    const enqueued: { id: string; queue: string; handler: string }[] = [];
    // Distinct creation milliseconds, so "newest first" is the reverse of this order.
    for (const [handler, payload, options] of [
      ['echo', { message: 'a' }],
      ['urgent', { n: 1 }],
      ['echo', { message: 'b' }, { delay: 60_000 }],
      ['urgent', { n: 2 }],
      ['flaky', { n: 3 }],
      ['urgent', { n: 4 }, { delay: 60_000 }],
      ['echo', { message: 'c' }],
    ] as [string, unknown, unknown?][]) {
      const before = Date.now();
      enqueued.push({ id: await enqueue(handler, payload, options), queue: handler === 'urgent' ? 'critical' : 'jobs', handler });
      await sleepUntil(() => Date.now() > before, { message: 'the next millisecond' });
    }
    const newestFirst = [...enqueued].reverse();

    const seen: JobView[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: JobPage = await json<JobPage>(t.call('GET', `/api/admin/job?limit=3${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((j) => j.id)).toEqual(newestFirst.map((j) => j.id));
    expect(seen.map((j) => j.queue)).toEqual(newestFirst.map((j) => j.queue));
    // Items are what GET /api/admin/job/:id answers.
    for (const item of seen) expect(item).toEqual(await jobView(item.id));

    const critical = await json<JobPage>(t.call('GET', '/api/admin/job?queue=critical'));
    expect(critical.items.map((j) => j.id)).toEqual(newestFirst.filter((j) => j.queue === 'critical').map((j) => j.id));
    expect(critical.nextCursor).toBeNull();
    const delayed = await json<JobPage>(t.call('GET', '/api/admin/job?state=delayed'));
    expect(delayed.items.map((j) => j.id)).toEqual([enqueued[5]!.id, enqueued[2]!.id]);
    expect(delayed.items.every((j) => j.state === 'delayed')).toBe(true);
    const echo = await json<JobPage>(t.call('GET', '/api/admin/job?handler=echo&state=waiting,delayed&limit=2'));
    expect(echo.items.map((j) => j.id)).toEqual([enqueued[6]!.id, enqueued[2]!.id]);
    const rest = await json<JobPage>(t.call('GET', `/api/admin/job?handler=echo&state=waiting,delayed&limit=2&cursor=${echo.nextCursor}`));
    expect(rest).toEqual({ items: [expect.objectContaining({ id: enqueued[0]!.id })], nextCursor: null });
  });

  it('finished jobs list newest first too, across pages', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) {
      const before = Date.now();
      ids.push(await enqueue('urgent', { n }));
      await sleepUntil(() => Date.now() > before, { message: 'the next millisecond' });
    }
    await sleepUntil(async () => (await Promise.all(ids.map(stateOf))).every((s) => s === 'completed'), { message: 'six completed jobs' });
    const first = await json<JobPage>(t.call('GET', '/api/admin/job?state=completed&limit=4'));
    const second = await json<JobPage>(t.call('GET', `/api/admin/job?state=completed&limit=4&cursor=${first.nextCursor}`));
    expect([...first.items, ...second.items].map((j) => j.id)).toEqual([...ids].reverse());
    expect(second.nextCursor).toBeNull();
    // The scan of finished jobs stops once finish times fall below the page's oldest creation time:
    // with pages of 2 ids and no clock-skew margin, every page still comes out whole and in order.
    const queue = t.deps.jobs.queues.get('critical')!;
    const seen: string[] = [];
    let after: Parameters<typeof findJobs>[2]['after'];
    for (;;) {
      const found = await findJobs(t.redis, [queue], { states: ['completed'], limit: 2, after }, { scanPage: 2, clockSkewMs: 0 });
      seen.push(...found.slice(0, 2).map((j) => `critical~${j.id}`));
      if (found.length <= 2) break;
      after = found[1];
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('the scan of finished jobs stops early only when nothing further down can be newer', async () => {
    t = await createTestApp({ handlers });
    startWorker();
    // Created z, a, r, f (in that order); finished r, z, a, f. Newest by creation: f, r, a, z.
    const t0 = Date.now();
    const at = (ms: number) => sleepUntil(() => Date.now() >= t0 + ms, { message: `t0 + ${ms} ms` });
    const z = await enqueue('sleepy', { ms: 700 });
    await at(100);
    const a = await enqueue('sleepy', { ms: 1_400 });
    await at(500);
    const r = await enqueue('sleepy', { ms: 100 });
    await at(1_000);
    const f = await enqueue('sleepy', { ms: 1_000 });
    await sleepUntil(async () => (await Promise.all([z, a, r, f].map(stateOf))).every((st) => st === 'completed'), { message: 'four completed jobs' });
    // Read by finish time (f, a, z, r), the first scan page of 3 holds f, a, z: z finished before f
    // was created, yet r (created after a and z) is still below and belongs on the page.
    const found = await findJobs(t.redis, [t.deps.jobs.queues.get('jobs')!], { states: ['completed'], limit: 2 }, { scanPage: 3, clockSkewMs: 0 });
    expect(found.map((j) => j.id)).toEqual([f, r, a]);
  });

  it('a cursor round-trips any queue name, a legacy QUEUE_NAME outside the queue-name rule included', () => {
    for (const position of [{ createdAt: 1_700_000_000_000, queue: 'Legacy_Q', id: 'repeat:nightly:1700000000' }, { createdAt: 0, queue: 'critical', id: '42' }]) {
      expect(decodeJobCursor(encodeJobCursor(position))).toEqual(position);
    }
  });

  it('404 problem for an unknown queue, listing the known ones', async () => {
    t = await createTestApp({ handlers });
    for (const [method, path, body] of [
    ['POST', '/api/admin/queue/nope/pause', undefined],
    ['POST', '/api/admin/queue/nope/resume', undefined],
    ['POST', '/api/admin/queue/nope/retry', {}],
    ['POST', '/api/admin/queue/nope/clean', { state: 'completed', olderThanMs: 0 }],
    ['GET', '/api/admin/job?queue=nope', undefined],
    ] as [string, string, unknown][]) {
      const res = await t.call(method, path, body);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect((await res.json()) as Problem).toMatchObject({ detail: expect.stringContaining('jobs, critical') });
    }
  });

  it('400 problem naming the wrong field', async () => {
    t = await createTestApp({ handlers });
    for (const [method, path, body, field] of [
    ['POST', '/api/admin/queue/jobs/clean', { state: 'active', olderThanMs: 0 }, 'body.state'],
    ['POST', '/api/admin/queue/jobs/clean', { state: 'failed' }, 'body.olderThanMs'],
    ['POST', '/api/admin/queue/jobs/clean', { state: 'failed', olderThanMs: -1 }, 'body.olderThanMs'],
    ['POST', '/api/admin/queue/jobs/clean', { state: 'failed', olderThanMs: 0, limit: 0 }, 'body.limit'],
    ['POST', '/api/admin/queue/jobs/retry', { limit: 'all' }, 'body.limit'],
    ['POST', '/api/admin/queue/jobs/retry', { handlr: 'x' }, 'body.handlr'],
    ['GET', '/api/admin/job?state=running', undefined, 'query.state'],
    ['GET', '/api/admin/job?state=failed,bogus', undefined, 'query.state'],
    ['GET', '/api/admin/job?limit=0', undefined, 'query.limit'],
    ['GET', '/api/admin/job?limit=101', undefined, 'query.limit'],
    ['GET', '/api/admin/job?cursor=garbage', undefined, 'query.cursor'],
    ['GET', `/api/admin/job?cursor=${Buffer.from('[1,"","1"]').toString('base64url')}`, undefined, 'query.cursor'],
    ['GET', `/api/admin/job?cursor=${Buffer.from('[-1,"jobs","1"]').toString('base64url')}`, undefined, 'query.cursor'],
    ['GET', `/api/admin/job?cursor=${Buffer.from('["1","jobs","1"]').toString('base64url')}`, undefined, 'query.cursor'],
    ] as [string, string, unknown, string][]) {
      const res = await t.call(method, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as Problem).field, `${path} ${JSON.stringify(body)}`).toBe(field);
    }
  });

  it('Redis unreachable: every queue admin route answers 503 with Retry-After, at once', async () => {
    t = await createTestApp({ handlers, redisUrl: 'redis://127.0.0.1:1' });
    for (const [method, path, body] of [
      ['GET', '/api/admin/queue'],
      ['POST', '/api/admin/queue/jobs/pause'],
      ['POST', '/api/admin/queue/jobs/resume'],
      ['POST', '/api/admin/queue/jobs/retry', {}],
      ['POST', '/api/admin/queue/critical/clean', { state: 'failed', olderThanMs: 0 }],
      ['GET', '/api/admin/job?state=failed'],
    ] as [string, string, unknown?][]) {
      const started = Date.now();
      const res = await t.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(Date.now() - started, `${method} ${path}`).toBeLessThan(2_000);
    }
  });

  it('needs jobs:admin: a jobs:enqueue token may read one job but not list jobs or touch queues', async () => {
    t = await createTestApp({ handlers, auth: true });
    const enqueueToken = await mintToken({ scope: 'jobs:enqueue' });
    const adminToken = await mintToken({ scope: 'jobs:admin' });
    for (const [method, path, body] of [
      ['GET', '/api/admin/queue'],
      ['POST', '/api/admin/queue/jobs/pause'],
      ['POST', '/api/admin/queue/jobs/resume'],
      ['POST', '/api/admin/queue/jobs/retry', {}],
      ['POST', '/api/admin/queue/jobs/clean', { state: 'failed', olderThanMs: 0 }],
      ['GET', '/api/admin/job'],
      ['GET', '/api/admin/job/'],
      ['GET', '/api/admin/job?queue=critical'],
    ] as [string, string, unknown?][]) {
      expect((await t.call(method, path, body, { token: enqueueToken })).status, `${method} ${path}`).toBe(403);
      expect((await t.call(method, path, body)).status, `${method} ${path}`).toBe(401);
      expect((await t.call(method, path, body, { token: adminToken })).status, `${method} ${path}`).toBe(200);
    }
    expect((await t.call('GET', '/api/admin/job/42', undefined, { token: enqueueToken })).status).toBe(404);
  });

  it('every route is in the OpenAPI document', async () => {
    t = await createTestApp({ handlers });
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(t.call('GET', '/api/openapi.json'));
    expect(Object.keys(doc.paths['/api/admin/queue'] ?? {})).toEqual(['get']);
    for (const action of ['pause', 'resume', 'retry', 'clean']) expect(Object.keys(doc.paths[`/api/admin/queue/{name}/${action}`] ?? {}), action).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/admin/job'] ?? {}).sort()).toEqual(['get', 'post']);
    // List items and GET /api/admin/job/{id} say which queue the job is on.
    const job = (doc as unknown as { components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> } }).components.schemas.Job!;
    expect(job.properties).toHaveProperty('queue');
    expect(job.required).toContain('queue');
  });

  it('BullBoard shows every queue', async () => {
    t = await createTestApp({ handlers, env: { APP_ENV: 'local' } });
    const res = await t.call('GET', '/bullBoard/api/queues');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(['critical', 'jobs']);
  });

  it('metrics carry the queue: jobs_processed_total and job_duration_seconds from the worker, queue_jobs for every queue from the API', async () => {
    t = await createTestApp({ handlers });
    const metrics = createMetricsRegistry('worker', { defaultMetrics: false });
    startWorker(metrics);
    const id = await enqueue('urgent', { n: 1 });
    await sleepUntil(async () => (await stateOf(id)) === 'completed', { message: 'the job to complete' });
    const text = await metrics.metrics();
    expect(text).toMatch(/^jobs_processed_total\{[^}]*queue="critical",handler="urgent",outcome="completed"[^}]*\} 1$/m);
    expect(text).toMatch(/^job_duration_seconds_count\{[^}]*queue="critical",handler="urgent",outcome="completed"[^}]*\} 1$/m);
    await enqueue('echo', { message: 'waits' }, { delay: 60_000 });
    const api = await t.deps.metrics.metrics();
    expect(api).toMatch(/^queue_jobs\{[^}]*queue="critical",state="completed"[^}]*\} 1$/m);
    expect(api).toMatch(/^queue_jobs\{[^}]*queue="jobs",state="delayed"[^}]*\} 1$/m);
  });
});
