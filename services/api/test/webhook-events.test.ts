import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, type JobClient } from '../../../shared/src/index.js';
import { deliveryJobId, relayOutbox, type SendWebhookPayload, WEBHOOK_ID_PATTERN } from '../../../shared/src/webhooks/index.js';
import type { NewWebhookEvent } from '../../../shared/src/db/index.js';
import { cleanupPrefix, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { outboxRows, postCreated } from './helpers/rows.js';

type Problem = { status: number; field?: string; detail?: string };
type Subscription = { id: string; events: string[]; enabled: boolean };
type CronJob = { id: string; name: string; enabled: boolean };
type Attempt = { id: string; webhookId: string; attempt: number; success: boolean; error: string | null; createdAt: string; requestBody: Record<string, unknown> };
type AttemptPage = { items: Attempt[]; nextCursor: string | null };
type Jwk = Record<string, unknown>;

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const cron = { name: 'nightly', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'hi' } };

const subscribe = (t: TestApp, events: string[], enabled = true) => postCreated<Subscription>(t, '/api/admin/webhookSubscription', { url: 'https://example.com/hook', events, enabled });
const createCron = (t: TestApp) => postCreated<CronJob>(t, '/api/admin/cronJob', cron);

/** The `sendWebhook` jobs waiting in the queue, as `{ jobId, payload }`, optionally only about `resource`. */
async function queuedDeliveries(t: TestApp, resource?: string): Promise<{ jobId: string; payload: SendWebhookPayload }[]> {
  const jobs = await t.deps.jobs.queue.getJobs(['waiting', 'delayed', 'prioritized']);
  return jobs
    .filter((job) => job.name === 'sendWebhook')
    .map((job) => ({ jobId: job.id!, payload: (job.data as { payload: SendWebhookPayload }).payload }))
    .filter((d) => resource === undefined || d.payload.resource === resource);
}

const eventRows = (t: TestApp) => t.database.db.selectFrom('webhook_event').selectAll().orderBy('created_at').orderBy('id').execute();

/** An attempt row as the worker (or the relay, for `skipped`) would record it. */
function attemptRow(subscriptionId: string, overrides: Partial<NewWebhookEvent> = {}): NewWebhookEvent {
  const webhookId = overrides.webhook_id ?? 'evt_1';
  return {
    subscription_id: subscriptionId,
    webhook_id: webhookId,
    job_id: 'job-1',
    attempt: 1,
    action: 'create',
    resource: 'cronJob',
    resource_id: 'r-1',
    request_body: { id: webhookId, type: 'cronJob.create', resource: 'cronJob', action: 'create', resourceId: 'r-1', occurredAt: '2024-05-01T12:00:00.000Z', data: { name: 'x' } },
    response_status: 500,
    response_body: 'oops',
    error: 'http_5xx',
    duration_ms: 12,
    success: false,
    ...overrides,
  };
}

describe('webhook hook: cron mutations fan out to matching subscriptions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('creating a cron job enqueues exactly one sendWebhook job per matching enabled subscription, with the event', async () => {
    const sub = await subscribe(t, ['cronJob.create']);
    const row = await createCron(t);
    const [entry] = (await outboxRows(t)).filter((r) => r.resource === 'cronJob');
    expect(entry).toMatchObject({ action: 'create', resource_id: row.id, data: row, relayed_at: expect.any(Date) });

    const deliveries = await queuedDeliveries(t, 'cronJob');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.jobId).toBe(deliveryJobId(entry!.id, sub.id));
    expect(deliveries[0]!.payload).toEqual({
      subscriptionId: sub.id,
      resource: 'cronJob',
      action: 'create',
      resourceId: row.id,
      data: row,
      webhookId: entry!.webhook_id,
      occurredAt: new Date(entry!.occurred_at).toISOString(),
    });
    expect(await t.deps.jobs.getJob(deliveries[0]!.jobId)).toMatchObject({ handler: 'sendWebhook', type: 'adhoc', state: 'waiting' });
  });

  it('"*", "cronJob.*", "cronJob.create" and "cronJob.delete" select the right subscriptions; a disabled one gets a skipped row', async () => {
    const all = await subscribe(t, ['*']);
    const anyCron = await subscribe(t, ['cronJob.*']);
    const creates = await subscribe(t, ['invoice.paid', 'cronJob.create']);
    const deletes = await subscribe(t, ['cronJob.delete']);
    const others = await subscribe(t, ['invoice.*']);
    const disabled = await subscribe(t, ['cronJob.*'], false);

    const row = await createCron(t);
    const subscribersOf = async (action: string) =>
      (await queuedDeliveries(t, 'cronJob')).filter((d) => d.payload.action === action).map((d) => d.payload.subscriptionId).sort();
    expect(await subscribersOf('create')).toEqual([all.id, anyCron.id, creates.id].sort());

    await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { name: 'renamed' });
    expect(await subscribersOf('update')).toEqual([all.id, anyCron.id].sort());
    const update = (await queuedDeliveries(t, 'cronJob')).find((d) => d.payload.action === 'update')!;
    expect(update.payload.data).toMatchObject({ id: row.id, name: 'renamed' });

    expect((await t.call('DELETE', `/api/admin/cronJob/${row.id}`)).status).toBe(204);
    expect(await subscribersOf('delete')).toEqual([all.id, anyCron.id, deletes.id].sort());
    expect((await queuedDeliveries(t)).some((d) => d.payload.subscriptionId === others.id)).toBe(false);

    // The disabled one: nothing queued, one skipped attempt per event instead.
    expect((await queuedDeliveries(t)).some((d) => d.payload.subscriptionId === disabled.id)).toBe(false);
    const skipped = (await eventRows(t)).filter((e) => e.subscription_id === disabled.id);
    expect(skipped.map((e) => [e.resource, e.action, e.error, e.success])).toEqual([
      ['cronJob', 'create', 'skipped', false],
      ['cronJob', 'update', 'skipped', false],
      ['cronJob', 'delete', 'skipped', false],
    ]);
    expect(skipped[0]!.request_body).toMatchObject({ type: 'cronJob.create', resourceId: row.id, data: { id: row.id, name: 'nightly' } });

    // The "*" subscriber also hears about subscription changes (those made after it existed).
    const aboutSubscriptions = (await queuedDeliveries(t, 'webhookSubscription')).filter((d) => d.payload.subscriptionId === all.id);
    expect(aboutSubscriptions.map((d) => `${d.payload.action} ${d.payload.resourceId}`).sort()).toEqual(
      [all, anyCron, creates, deletes, others, disabled].map((s) => `create ${s.id}`).sort(),
    );
  });

  it('relaying the same outbox again adds no second job', async () => {
    await subscribe(t, ['cronJob.*']);
    await createCron(t);
    expect(await queuedDeliveries(t, 'cronJob')).toHaveLength(1);
    const enqueue = (payload: SendWebhookPayload, options: object) => t.deps.jobs.enqueueJob('sendWebhook', payload, options);

    expect(await relayOutbox(t.deps.db, enqueue)).toEqual({ relayed: 0, enqueued: 0, skipped: 0, failed: [] });
    // Even a row relayed twice (a crash between enqueue and commit) maps to the same job id.
    await t.database.db.updateTable('webhook_outbox').set({ relayed_at: null }).execute();
    expect((await relayOutbox(t.deps.db, enqueue)).enqueued).toBe(1);
    expect(await queuedDeliveries(t, 'cronJob')).toHaveLength(1);
  });
});

describe('webhook hook with Redis unreachable', () => {
  let t: TestApp;
  let prefix: string;
  let working: JobClient<typeof jobHandlers> | undefined;
  beforeEach(async () => {
    t = await createTestApp({ redisUrl: 'redis://127.0.0.1:1' });
    prefix = testPrefix('relay');
  });
  afterEach(async () => {
    await working?.close();
    working = undefined;
    await t.close();
    await cleanupPrefix(prefix);
  });

  it('a mutation still commits and its outbox row waits; a later relay with Redis back enqueues it exactly once', async () => {
    const sub = await subscribe(t, ['cronJob.*']);
    const row = await createCron(t);
    expect(await t.database.db.selectFrom('cron_job').select('id').execute()).toEqual([{ id: row.id }]);
    const pending = (await outboxRows(t)).filter((r) => r.relayed_at === null);
    expect(pending).toMatchObject([{ resource: 'cronJob', action: 'create', resource_id: row.id }]);
    expect(t.lines.find((l) => l.msg.startsWith('webhook outbox not relayed'))).toBeDefined();

    // Published events too: accepted (202) and kept.
    const published = await t.call('POST', '/api/admin/event', { resource: 'cronJob', action: 'paused', resourceId: row.id });
    expect(published.status).toBe(202);
    expect((await outboxRows(t)).filter((r) => r.relayed_at === null)).toHaveLength(2);

    // Redis is back (here: another client on the real Redis), as for the scheduler's relay pass.
    working = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    const client = working;
    const enqueue = (payload: SendWebhookPayload, options: object) => client.enqueueJob('sendWebhook', payload, options);
    expect(await relayOutbox(t.deps.db, enqueue)).toEqual({ relayed: 2, enqueued: 2, skipped: 0, failed: [] });
    expect(await relayOutbox(t.deps.db, enqueue)).toEqual({ relayed: 0, enqueued: 0, skipped: 0, failed: [] });
    const jobs = await client.queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(2);
    const job = await client.getJob(deliveryJobId(pending[0]!.id, sub.id));
    expect(job?.payload).toMatchObject({ subscriptionId: sub.id, resource: 'cronJob', action: 'create', resourceId: row.id, webhookId: pending[0]!.webhook_id });
  });

  it('replays answer 503 while the queue is down', async () => {
    const sub = await subscribe(t, ['cronJob.*']);
    const [attempt] = await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id)).returning('id').execute();
    expect((await t.call('POST', `/api/admin/webhookEvent/${attempt!.id}/replay`)).status).toBe(503);
    await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { error: 'skipped', job_id: null, attempt: 0 })).execute();
    expect((await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).status).toBe(503);
  });
});

describe('attempt log and replay', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('GET …/:id/event lists the attempts newest first across pages, filters by success, and shows each attempt', async () => {
    const sub = await subscribe(t, ['cronJob.*']);
    const other = await subscribe(t, ['cronJob.*']);
    const at = (us: string) => `2024-05-01T12:00:00.123${us}Z`;
    const stamps = [at('455'), at('456'), at('456'), at('456'), at('457')];
    for (const [i, createdAt] of stamps.entries()) {
      await t.database.db
        .insertInto('webhook_event')
        .values(attemptRow(sub.id, { attempt: i + 1, created_at: createdAt, success: i % 2 === 0, error: i % 2 === 0 ? null : 'timeout' }))
        .execute();
    }
    await t.database.db.insertInto('webhook_event').values(attemptRow(other.id)).execute();
    const expected = (
      await t.database.db.selectFrom('webhook_event').select('id').where('subscription_id', '=', sub.id).orderBy('created_at', 'desc').orderBy('id', 'desc').execute()
    ).map((r) => r.id);

    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.call('GET', `/api/admin/webhookSubscription/${sub.id}/event?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as AttemptPage;
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(ids).toEqual(expected);

    const all = (await (await t.call('GET', `/api/admin/webhookSubscription/${sub.id}/event`)).json()) as AttemptPage;
    expect(all.items.map((i) => i.attempt)).toEqual([5, ...all.items.slice(1, 4).map((i) => i.attempt), 1]);
    expect(all.items[0]).toEqual({
      id: expected[0],
      webhookId: 'evt_1',
      jobId: 'job-1',
      attempt: 5,
      resource: 'cronJob',
      action: 'create',
      resourceId: 'r-1',
      success: true,
      error: null,
      responseStatus: 500,
      responseBody: 'oops',
      durationMs: 12,
      createdAt: '2024-05-01T12:00:00.123Z',
      requestBody: expect.objectContaining({ id: 'evt_1', type: 'cronJob.create', data: { name: 'x' } }),
    });
    const attempts = async (query: string) => ((await (await t.call('GET', `/api/admin/webhookSubscription/${sub.id}/event?${query}`)).json()) as AttemptPage).items.map((i) => i.attempt);
    expect(await attempts('success=true')).toEqual([5, 3, 1]);
    expect((await attempts('success=false')).sort()).toEqual([2, 4]);

    expect((await t.call('GET', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/event`)).status).toBe(404);
    for (const [query, field] of [['cursor=nope!', 'query.cursor'], ['success=maybe', 'query.success'], ['limit=101', 'query.limit']]) {
      const res = await t.call('GET', `/api/admin/webhookSubscription/${sub.id}/event?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).field).toBe(field);
    }
  });

  it('POST webhookEvent/:id/replay enqueues the same event again (same webhookId, data, occurredAt); 404 unknown; 409 while disabled', async () => {
    const sub = await subscribe(t, ['cronJob.*']);
    const [attempt] = await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: 'evt_77' })).returning('id').execute();
    const res = await t.call('POST', `/api/admin/webhookEvent/${attempt!.id}/replay`);
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    expect(await t.deps.jobs.getJob(jobId)).toMatchObject({
      handler: 'sendWebhook',
      state: 'waiting',
      payload: { subscriptionId: sub.id, webhookId: 'evt_77', resource: 'cronJob', action: 'create', resourceId: 'r-1', data: { name: 'x' }, occurredAt: '2024-05-01T12:00:00.000Z' },
    });
    // An explicit replay sends again each time; receivers dedupe on the webhook id.
    const again = (await (await t.call('POST', `/api/admin/webhookEvent/${attempt!.id}/replay`)).json()) as { jobId: string };
    expect(again.jobId).not.toBe(jobId);

    for (const id of [UNKNOWN_UUID, 'not-a-uuid']) expect((await t.call('POST', `/api/admin/webhookEvent/${id}/replay`)).status).toBe(404);

    await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: false });
    const refused = await t.call('POST', `/api/admin/webhookEvent/${attempt!.id}/replay`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Problem).detail).toMatch(/re-enable it first/);
  });

  it('POST webhookSubscription/:id/replay sends each skipped event once after re-enabling; 409 while disabled', async () => {
    const sub = await subscribe(t, ['cronJob.*'], false);
    const first = await createCron(t);
    await t.call('PATCH', `/api/admin/cronJob/${first.id}`, { name: 'renamed' });
    const skipped = (await eventRows(t)).filter((e) => e.error === 'skipped');
    expect(skipped.map((e) => e.action)).toEqual(['create', 'update']);
    expect(await queuedDeliveries(t, 'cronJob')).toEqual([]);

    const refused = await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Problem).detail).toMatch(/re-enable it first/);

    expect((await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: true })).status).toBe(200);
    const res = await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ enqueued: 2 });
    const replays = await queuedDeliveries(t, 'cronJob');
    expect(replays.map((d) => d.jobId).sort()).toEqual(skipped.map((e) => `wh-replay-${e.id}`).sort());
    for (const e of skipped) {
      expect(replays.find((d) => d.jobId === `wh-replay-${e.id}`)!.payload).toEqual({
        subscriptionId: sub.id,
        resource: 'cronJob',
        action: e.action,
        resourceId: first.id,
        data: (e.request_body as { data: unknown }).data,
        webhookId: e.webhook_id,
        occurredAt: (e.request_body as { occurredAt: string }).occurredAt,
      });
    }

    // Twice: nothing more is sent while those wait…
    expect(await (await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).json()).toEqual({ enqueued: 0 });
    expect(await queuedDeliveries(t, 'cronJob')).toHaveLength(2);

    // …nor once they have run (their attempts recorded), even after BullMQ has trimmed the jobs.
    for (const e of skipped) {
      await t.deps.jobs.queue.remove(`wh-replay-${e.id}`);
      await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: e.webhook_id, job_id: `wh-replay-${e.id}`, success: true, error: null })).execute();
    }
    expect(await (await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).json()).toEqual({ enqueued: 0 });
    expect(await queuedDeliveries(t, 'cronJob')).toEqual([]);

    // An event skipped again later (the breaker tripped once more) is sent by the next replay.
    await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: false });
    await t.call('DELETE', `/api/admin/cronJob/${first.id}`);
    await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: true });
    expect(await (await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).json()).toEqual({ enqueued: 1 });
    expect((await queuedDeliveries(t, 'cronJob')).map((d) => d.payload.action)).toEqual(['delete']);

    expect((await t.call('POST', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/replay`)).status).toBe(404);
  });

  it('subscription replay sends one job per event: its latest skipped row, unless a real attempt came after it', async () => {
    const sub = await subscribe(t, ['cronJob.*']);
    // evt_5 skipped by the relay, then skipped again by the job that replayed it.
    await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: 'evt_5', error: 'skipped', attempt: 0, job_id: null, created_at: '2024-05-01T12:00:00Z' })).execute();
    const [latest] = await t.database.db
      .insertInto('webhook_event')
      .values(attemptRow(sub.id, { webhook_id: 'evt_5', error: 'skipped', attempt: 1, job_id: 'wh-replay-x', created_at: '2024-05-01T13:00:00Z' }))
      .returning('id')
      .execute();
    // evt_6 failed for real after its skip: it was replayed already.
    await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: 'evt_6', error: 'skipped', attempt: 0, job_id: null, created_at: '2024-05-01T12:00:00Z' })).execute();
    await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: 'evt_6', created_at: '2024-05-01T12:30:00Z' })).execute();

    // evt_7 failed for real, then (breaker tripped) its retry was skipped: it still has to go out.
    await t.database.db.insertInto('webhook_event').values(attemptRow(sub.id, { webhook_id: 'evt_7', created_at: '2024-05-01T11:00:00Z' })).execute();
    const [retried] = await t.database.db
      .insertInto('webhook_event')
      .values(attemptRow(sub.id, { webhook_id: 'evt_7', error: 'skipped', attempt: 2, created_at: '2024-05-01T14:00:00Z' }))
      .returning('id')
      .execute();

    expect(await (await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).json()).toEqual({ enqueued: 2 });
    const queued = (await queuedDeliveries(t, 'cronJob')).map((d) => [d.jobId, d.payload.webhookId]);
    expect(queued.sort()).toEqual([
      [`wh-replay-${latest!.id}`, 'evt_5'],
      [`wh-replay-${retried!.id}`, 'evt_7'],
    ].sort());
  });
});

describe('POST /api/admin/event', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('answers 202 with the event id, stores it in the outbox and fans it out to matching subscriptions', async () => {
    const paid = await subscribe(t, ['invoice.paid']);
    const anyInvoice = await subscribe(t, ['invoice.*']);
    await subscribe(t, ['invoice.refunded']);
    const res = await t.call('POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: 'inv_1', data: { total: 42, lines: [{ sku: 'a' }] } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const entry = (await outboxRows(t)).find((r) => r.resource === 'invoice')!;
    // Random (SPEC §14), stored with the outbox row, and what every delivery carries.
    expect(id).toMatch(WEBHOOK_ID_PATTERN);
    expect(id).toBe(entry.webhook_id);
    expect(entry).toMatchObject({ action: 'paid', resource_id: 'inv_1', data: { total: 42, lines: [{ sku: 'a' }] }, relayed_at: expect.any(Date) });
    const deliveries = await queuedDeliveries(t, 'invoice');
    expect(deliveries.map((d) => d.payload.subscriptionId).sort()).toEqual([paid.id, anyInvoice.id].sort());
    expect(deliveries[0]!.payload).toMatchObject({ action: 'paid', resourceId: 'inv_1', webhookId: id, data: { total: 42 } });
    expect(t.lines.find((l) => l.msg === 'event published')).toMatchObject({ eventId: id, type: 'invoice.paid' });

    // data is optional.
    const bare = await t.call('POST', '/api/admin/event', { resource: 'invoice', action: 'voided', resourceId: 'inv_2' });
    expect(bare.status).toBe(202);
    expect((await outboxRows(t)).at(-1)).toMatchObject({ action: 'voided', data: {} });
  });

  it.each([
    ['no resource', { resource: undefined }, 'body.resource'],
    ['a resource with a dot', { resource: 'in.voice' }, 'body.resource'],
    ['an action with a space', { action: 'was paid' }, 'body.action'],
    ['an action over 64 characters', { action: `a${'b'.repeat(64)}` }, 'body.action'],
    ['an empty resourceId', { resourceId: '' }, 'body.resourceId'],
    ['a resourceId over 200 characters', { resourceId: 'x'.repeat(201) }, 'body.resourceId'],
    ['a NUL in resourceId', { resourceId: 'a\u0000' }, 'body.resourceId'],
    ['data that is not an object', { data: [1, 2] }, 'body.data'],
    ['a NUL in data', { data: { note: { text: 'a\u0000' } } }, 'body.data.note.text'],
    ['an unknown key', { occurredAt: 'now' }, 'body.occurredAt'],
  ])('400 for %s, naming the field; nothing is stored', async (_label, body, field) => {
    const res = await t.call('POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: 'inv_1', ...body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).field).toBe(field);
    expect(await outboxRows(t)).toEqual([]);
  });

  it('the random event id it answers is the one the delivery, its skipped row and its replays carry', async () => {
    const sub = await subscribe(t, ['invoice.*'], false);
    const ids: string[] = [];
    for (const resourceId of ['inv_a', 'inv_b']) {
      const res = await t.call('POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId });
      ids.push(((await res.json()) as { id: string }).id);
    }
    expect(ids[0]).toMatch(WEBHOOK_ID_PATTERN);
    expect(ids[1]).toMatch(WEBHOOK_ID_PATTERN);
    expect(ids[0]).not.toBe(ids[1]);
    // The subscription is disabled: each event is recorded as skipped, under its id.
    const skipped = (await eventRows(t)).filter((e) => e.subscription_id === sub.id);
    expect(skipped.map((e) => [e.resource_id, e.webhook_id, e.error])).toEqual([
      ['inv_a', ids[0], 'skipped'],
      ['inv_b', ids[1], 'skipped'],
    ]);
    expect((await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: true })).status).toBe(200);
    const replay = await t.call('POST', `/api/admin/webhookEvent/${skipped[0]!.id}/replay`);
    expect(replay.status).toBe(202);
    const { jobId } = (await replay.json()) as { jobId: string };
    expect((await t.deps.jobs.getJob(jobId))?.payload).toMatchObject({ webhookId: ids[0], resourceId: 'inv_a' });
    expect((await t.call('POST', `/api/admin/webhookSubscription/${sub.id}/replay`)).status).toBe(202);
    // The single replay above, and one per skipped event: each under its event's id.
    const replays = await queuedDeliveries(t, 'invoice');
    expect(replays.map((d) => d.payload.webhookId).sort()).toEqual([ids[0], ids[0], ids[1]].sort());
  });

  it('400 for data nested absurdly deep (sent raw)', async () => {
    const depth = 10_000;
    const raw = `{"resource":"invoice","action":"paid","resourceId":"1","data":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await t.call('POST', '/api/admin/event', raw);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).field).toMatch(/^body\.data\.deep(\.0)+$/);
  });
});

describe('GET /.well-known/jwks.json', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('serves the public signing key(s) with their kid, cacheable, without private members', async () => {
    const res = await t.call('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await res.json()) as { keys: Jwk[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: t.deps.signingKeys.current.kid, alg: 'RS256', use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(body.keys[0]).not.toHaveProperty(member);
  });
});
