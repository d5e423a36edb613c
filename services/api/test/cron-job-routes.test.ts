import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jobHandlers, makeJob, type HandlerMap } from '../../../shared/src/index.js';
import { sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import type { CronJobView } from '../src/cron/cron-job-view.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';
import { postCreated } from './helpers/rows.js';

type Problem = { status: number; field?: string; detail?: string; knownHandlers?: string[] };
type CronJob = CronJobView;
type Page = { items: CronJob[]; nextCursor: string | null };

/** The built-in handlers (e.g. `echo`, payload `{ message: string }`) plus `count` (payload `{ n: number }`). */
const handlers: HandlerMap = {
  ...jobHandlers,
  count: makeJob(async (_ctx, payload: { n: number }) => payload.n, { schema: z.object({ n: z.number().int() }) }),
};

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const base = { name: 'every five minutes', pattern: '*/5 * * * *', handler: 'echo', payload: { message: 'hi' } };

const createRow = (t: TestApp, body: Record<string, unknown> = {}) => postCreated<CronJob>(t, '/api/admin/cronJob', { ...base, ...body });

const countRows = async (t: TestApp) => Number((await t.database.db.selectFrom('cron_job').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('cron job routes', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ handlers });
  });
  afterEach(() => t.close());

  it('POST creates: 201 with the row (defaults applied), stored in the database, logged with the actor', async () => {
    const res = await t.call('POST', '/api/admin/cronJob', { ...base, pattern: '  0   3 * * * ' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as CronJob;
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      jobId: expect.stringMatching(/^cron-[0-9a-f-]{36}$/),
      name: 'every five minutes',
      pattern: '0 3 * * *',
      handler: 'echo',
      payload: { message: 'hi' },
      enabled: true,
      maxAttempts: 3,
      backoffMs: 1000,
      nextRunAt: expect.stringMatching(/T03:00:00\.000Z$/),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = await t.database.db.selectFrom('cron_job').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ job_id: body.jobId, pattern: '0 3 * * *', handler: 'echo', payload: { message: 'hi' }, enabled: true, max_attempts: 3, backoff_ms: 1000 });
    expect(t.lines.find((l) => l.msg === 'cron job created')).toMatchObject({ actor: 'anonymous', cronJobId: body.id, jobId: body.jobId });
  });

  it('POST takes every field; a disabled row has no nextRunAt', async () => {
    const body = await createRow(t, { jobId: 'nightly.report_v2-x', handler: 'count', payload: { n: 7 }, enabled: false, maxAttempts: 10, backoffMs: 86_400_000, pattern: '30 0 9 * * MON-FRI' });
    expect(body).toMatchObject({ jobId: 'nightly.report_v2-x', handler: 'count', payload: { n: 7 }, enabled: false, maxAttempts: 10, backoffMs: 86_400_000, nextRunAt: null, pattern: '30 0 9 * * MON-FRI' });
  });

  it.each([
    ['a bad pattern', { pattern: '61 * * * *' }, 'body.pattern'],
    ['a 7-field pattern', { pattern: '0 0 0 * * * 2030' }, 'body.pattern'],
    ['a macro', { pattern: '@daily' }, 'body.pattern'],
    ['an unknown handler', { handler: 'nope' }, 'body.handler'],
    ['a payload failing the schema', { payload: { message: 5 } }, 'body.payload.message'],
    ['a payload missing a field', { payload: {} }, 'body.payload.message'],
    ['a payload that is not an object', { payload: ['hi'] }, 'body.payload'],
    ['an unknown key', { colour: 'blue' }, 'body.colour'],
    ['maxAttempts 0', { maxAttempts: 0 }, 'body.maxAttempts'],
    ['maxAttempts 1.5', { maxAttempts: 1.5 }, 'body.maxAttempts'],
    ['backoffMs too big', { backoffMs: 86_400_001 }, 'body.backoffMs'],
    ['a jobId with ":"', { jobId: 'a:b' }, 'body.jobId'],
    ['an empty name', { name: '' }, 'body.name'],
    ['a NUL in the name (Postgres text refuses it)', { name: 'a\u0000b' }, 'body.name'],
    ['an unpaired surrogate in the name', { name: 'a\ud800' }, 'body.name'],
    ['a NUL in a payload string (jsonb refuses it)', { payload: { message: 'x', nested: [{ s: 'a\u0000' }] } }, 'body.payload.nested.0.s'],
  ])('POST 400 for %s, naming the field; nothing is stored', async (_label, body, field) => {
    const res = await t.call('POST', '/api/admin/cronJob', { ...base, ...body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as Problem;
    expect(problem.field).toBe(field);
    if (field === 'body.pattern') expect(problem.detail).toMatch(/invalid cron pattern/);
    // The handlers a cron job may name: internal ones (sendWebhook, webhookEventRetention) are not offered.
    if (field === 'body.handler') expect(problem.knownHandlers).toEqual(['echo', 'count']);
    expect(await countRows(t)).toBe(0);
  });

  it('POST 400 for a payload nested absurdly deep (sent raw: it is too deep to stringify here)', async () => {
    const depth = 100_000;
    const raw = `{"name":"deep","pattern":"* * * * *","handler":"echo","payload":{"message":"x","deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await t.call('POST', '/api/admin/cronJob', raw);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).field).toMatch(/^body\.payload\.deep(\.0){31}$/);
    expect(await countRows(t)).toBe(0);
  });

  it('POST 409 for a duplicate jobId, keeping the first row', async () => {
    const first = await createRow(t, { jobId: 'dup' });
    const res = await t.call('POST', '/api/admin/cronJob', { ...base, jobId: 'dup', name: 'second' });
    expect(res.status).toBe(409);
    expect((await res.json()) as Problem).toMatchObject({ status: 409, field: 'body.jobId' });
    expect(await countRows(t)).toBe(1);
    expect(((await (await t.call('GET', `/api/admin/cronJob/${first.id}`)).json()) as CronJob).name).toBe(base.name);
  });

  it('GET one: 200 for a row, 404 for an unknown uuid and for an id that is not a uuid', async () => {
    const row = await createRow(t);
    const res = await t.call('GET', `/api/admin/cronJob/${row.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(row);
    for (const id of [UNKNOWN_UUID, 'not-a-uuid', "1' or '1'='1"]) {
      const missing = await t.call('GET', `/api/admin/cronJob/${encodeURIComponent(id)}`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
    }
    for (const [method, path] of [['PATCH', 'not-a-uuid'], ['DELETE', 'not-a-uuid'], ['POST', 'not-a-uuid/trigger']] as const) {
      expect((await t.call(method, `/api/admin/cronJob/${path}`, method === 'PATCH' ? { name: 'x' } : undefined)).status).toBe(404);
    }
  });

  it('lists in a stable (created_at, id) order across pages, rows sharing a timestamp included', async () => {
    const made: CronJob[] = [];
    for (let i = 0; i < 5; i++) made.push(await createRow(t, { name: `row ${i}` }));
    // Three rows share one microsecond-precise instant; the others sit a microsecond either side.
    const at = (us: string) => `2024-05-01T12:00:00.123${us}Z`;
    const stamps = [at('455'), at('456'), at('456'), at('456'), at('457')];
    for (const [i, row] of made.entries()) await t.database.db.updateTable('cron_job').set({ created_at: stamps[i]! }).where('id', '=', row.id).execute();
    const expected = (await t.database.db.selectFrom('cron_job').select('id').orderBy('created_at').orderBy('id').execute()).map((r) => r.id);

    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call('GET', `/api/admin/cronJob?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(expected);
    expect(pages[2]!.nextCursor).toBeNull();

    const all = (await (await t.call('GET', '/api/admin/cronJob')).json()) as Page;
    expect(all.items.map((i) => i.id)).toEqual(expected); // default limit 20
    expect(all.nextCursor).toBeNull();
  });

  it('filters the list by enabled and handler', async () => {
    const off = await createRow(t, { enabled: false });
    const counted = await createRow(t, { handler: 'count', payload: { n: 1 } });
    await createRow(t);
    const ids = async (query: string) => ((await (await t.call('GET', `/api/admin/cronJob?${query}`)).json()) as Page).items.map((i) => i.id);
    expect(await ids('enabled=false')).toEqual([off.id]);
    expect(await ids('enabled=true')).toHaveLength(2);
    expect(await ids('handler=count')).toEqual([counted.id]);
    expect(await ids('handler=count&enabled=false')).toEqual([]);
  });

  it.each([
    ['cursor=garbage!', 'query.cursor'],
    [`cursor=${Buffer.from('["2024-02-30T00:00:00.000000Z","00000000-0000-4000-8000-000000000000"]').toString('base64url')}`, 'query.cursor'],
    [`cursor=${Buffer.from('["2024-02-01T00:00:00.000000Z","x"]').toString('base64url')}`, 'query.cursor'],
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=ten', 'query.limit'],
    ['enabled=yes', 'query.enabled'],
    ['handler=%00', 'query.handler'],
  ])('list 400 for %s', async (query, field) => {
    const res = await t.call('GET', `/api/admin/cronJob?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).field).toBe(field);
  });

  it('PATCH changes only what it is given and bumps updatedAt', async () => {
    const row = await createRow(t, { jobId: 'keep-me', maxAttempts: 5 });
    const res = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { pattern: '0 12 * * *' });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as CronJob;
    expect(updated).toEqual({ ...row, pattern: '0 12 * * *', nextRunAt: expect.stringMatching(/T12:00:00\.000Z$/), updatedAt: expect.any(String) });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(row.updatedAt));
    expect(await t.database.db.selectFrom('cron_job').select('pattern').where('id', '=', row.id).executeTakeFirst()).toEqual({ pattern: '0 12 * * *' });
    expect(t.lines.find((l) => l.msg === 'cron job updated')).toMatchObject({ actor: 'anonymous', cronJobId: row.id, fields: ['pattern'] });

    expect(((await (await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { enabled: false })).json()) as CronJob).nextRunAt).toBeNull();
    expect((await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { pattern: '* * *' })).status).toBe(400);
    expect(((await (await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { color: 1 })).json()) as Problem).field).toBe('body.color');
    expect((await t.call('PATCH', `/api/admin/cronJob/${UNKNOWN_UUID}`, { name: 'x' })).status).toBe(404);
  });

  it('PATCH of the handler alone revalidates the stored payload against the new handler', async () => {
    const row = await createRow(t);
    const res = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { handler: 'count' });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.field).toBe('body.payload.n');
    expect(problem.detail).toMatch(/current payload/);
    const stored = await t.database.db.selectFrom('cron_job').select(['handler', 'payload']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ handler: 'echo', payload: { message: 'hi' } });

    const both = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { handler: 'count', payload: { n: 3 } });
    expect(both.status).toBe(200);
    expect(await both.json()).toMatchObject({ handler: 'count', payload: { n: 3 } });
    expect(((await (await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { handler: 'gone' })).json()) as Problem).field).toBe('body.handler');
  });

  it('PATCH can change jobId; 409 when it is taken', async () => {
    await createRow(t, { jobId: 'taken' });
    const row = await createRow(t, { jobId: 'mine' });
    const conflict = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { jobId: 'taken', name: 'renamed' });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as Problem).field).toBe('body.jobId');
    expect(await t.database.db.selectFrom('cron_job').select(['job_id', 'name']).where('id', '=', row.id).executeTakeFirst()).toEqual({ job_id: 'mine', name: base.name });
    const ok = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { jobId: 'free' });
    expect(((await ok.json()) as CronJob).jobId).toBe('free');
  });

  it('DELETE answers 204, then the row is gone (404)', async () => {
    const row = await createRow(t);
    const res = await t.call('DELETE', `/api/admin/cronJob/${row.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await t.call('GET', `/api/admin/cronJob/${row.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/api/admin/cronJob/${row.id}`)).status).toBe(404);
    expect(await countRows(t)).toBe(0);
    expect(t.lines.find((l) => l.msg === 'cron job deleted')).toMatchObject({ actor: 'anonymous', cronJobId: row.id });
  });

  it('trigger answers 202 and enqueues one cronTrigger job with the row payload, attempts and backoff, disabled or not', async () => {
    const row = await createRow(t, { enabled: false, maxAttempts: 4, backoffMs: 2_000 });
    const res = await t.call('POST', `/api/admin/cronJob/${row.id}/trigger`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string };
    expect(body).toEqual({ id: expect.any(String), handler: 'echo', type: 'cronTrigger', cronJobId: row.id });
    expect(await t.deps.jobs.getJob(body.id)).toMatchObject({ id: body.id, handler: 'echo', type: 'cronTrigger', cronJobId: row.id, payload: { message: 'hi' }, maxAttempts: 4, state: 'waiting' });
    const job = await t.deps.jobs.queue.getJob(body.id);
    expect(job?.opts.backoff).toEqual({ type: 'exponential', delay: 2_000 });
    expect((await t.call('POST', `/api/admin/cronJob/${UNKNOWN_UUID}/trigger`)).status).toBe(404);
  });

  it('trigger answers 409 for a row that cannot run as stored (handler no longer registered)', async () => {
    const row = await createRow(t);
    await t.database.db.updateTable('cron_job').set({ handler: 'retired' }).where('id', '=', row.id).execute();
    const res = await t.call('POST', `/api/admin/cronJob/${row.id}/trigger`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as Problem).detail).toMatch(/retired/);
    expect(await t.deps.jobs.queue.count()).toBe(0);
    // Such a row can still be disabled (and then repaired) through the API.
    expect((await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { enabled: false })).status).toBe(200);
  });

  it('publishes each committed create, update and delete on the cron-changed channel', async () => {
    const subscriber = new Redis(TEST_REDIS_URL);
    try {
      const messages: unknown[] = [];
      subscriber.on('message', (channel: string, text: string) => channel === t.deps.keys.cronChangedChannel && messages.push(JSON.parse(text)));
      await subscriber.subscribe(t.deps.keys.cronChangedChannel);
      const row = await createRow(t, { jobId: 'first-id' });
      await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { jobId: 'second-id' });
      await t.call('POST', '/api/admin/cronJob', { ...base, pattern: 'bad' }); // refused: nothing published
      await t.call('DELETE', `/api/admin/cronJob/${row.id}`);
      await sleepUntil(() => messages.length >= 3, { message: 'three cron-changed messages' });
      expect(messages).toEqual([
        { cronJobId: row.id, op: 'create', jobId: 'first-id' },
        { cronJobId: row.id, op: 'update', jobId: 'first-id' }, // the id it had: its old scheduler must go
        { cronJobId: row.id, op: 'delete', jobId: 'second-id' },
      ]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('documents the routes in the OpenAPI document under the cronJobs tag', async () => {
    const doc = (await (await t.call('GET', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>> };
    expect(Object.keys(doc.paths['/api/admin/cronJob']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/admin/cronJob/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(doc.paths['/api/admin/cronJob/{id}/trigger']!)).toEqual(['post']);
    expect(doc.paths['/api/admin/cronJob']!.post!.tags).toEqual(['cronJobs']);
    expect(Object.keys(doc.paths['/api/admin/cronJob']!.post!.responses)).toEqual(expect.arrayContaining(['201', '400', '409']));
    expect(Object.keys(doc.paths['/api/admin/cronJob/{id}']!.delete!.responses)).toEqual(expect.arrayContaining(['204', '404']));
  });
});

describe('cron job routes with Redis unreachable', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ handlers, redisUrl: 'redis://127.0.0.1:1' });
  });
  afterEach(() => t.close());

  it('still commits a create (201) and warns that the scheduler was not notified; trigger answers 503', async () => {
    const res = await t.call('POST', '/api/admin/cronJob', base);
    expect(res.status).toBe(201);
    const row = (await res.json()) as CronJob;
    expect(await countRows(t)).toBe(1);
    expect(t.lines.find((l) => l.msg.startsWith('scheduler not notified'))).toMatchObject({ cronJobId: row.id, op: 'create' });
    expect((await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { name: 'renamed' })).status).toBe(200);
    const trigger = await t.call('POST', `/api/admin/cronJob/${row.id}/trigger`);
    expect(trigger.status).toBe(503);
    expect((await t.call('DELETE', `/api/admin/cronJob/${row.id}`)).status).toBe(204);
  });
});

describe('cron job routes with auth', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ handlers, auth: true });
  });
  afterEach(() => t.close());

  it('needs jobs:admin: a jobs:enqueue token gets 403, an admin token gets through', async () => {
    const enqueuer = await mintToken({ scope: 'jobs:enqueue' });
    const admin = await mintToken({ scope: 'jobs:admin', sub: 'ops-alice' });
    expect((await t.call('GET', '/api/admin/cronJob')).status).toBe(401);
    expect((await t.call('GET', '/api/admin/cronJob', undefined, { token: enqueuer })).status).toBe(403);
    expect((await t.call('POST', '/api/admin/cronJob', base, { token: enqueuer })).status).toBe(403);
    expect((await t.call('POST', `/api/admin/cronJob/${UNKNOWN_UUID}/trigger`, undefined, { token: enqueuer })).status).toBe(403);
    expect(await countRows(t)).toBe(0);

    const created = await t.call('POST', '/api/admin/cronJob', base, { token: admin });
    expect(created.status).toBe(201);
    const row = (await created.json()) as CronJob;
    expect((await t.call('GET', '/api/admin/cronJob', undefined, { token: admin })).status).toBe(200);
    expect((await t.call('DELETE', `/api/admin/cronJob/${row.id}`, undefined, { token: enqueuer })).status).toBe(403);
    expect(t.lines.find((l) => l.msg === 'cron job created')).toMatchObject({ actor: 'ops-alice', cronJobId: row.id });
  });
});
