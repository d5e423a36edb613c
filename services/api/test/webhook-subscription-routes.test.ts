import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookSubscriptionView } from '../src/webhooks/webhook-views.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';
import { outboxRows, postCreated } from './helpers/rows.js';

type Problem = { status: number; field?: string; detail?: string };
type Subscription = WebhookSubscriptionView;
type Page = { items: Subscription[]; nextCursor: string | null };

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const base = { url: 'https://example.com/hooks/jobs', events: ['cronJob.*'] };

/** Creates a subscription and returns its view (the create response without its one-time `secret`). */
const subscribe = async (t: TestApp, body: Record<string, unknown> = {}): Promise<Subscription> => {
  const { secret: _secret, ...view } = await postCreated<Subscription & { secret: string }>(t, '/api/admin/webhookSubscription', { ...base, ...body });
  return view;
};

const countRows = async (t: TestApp) => Number((await t.database.db.selectFrom('webhook_subscription').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('webhook subscription routes', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('POST creates: 201 with the view (defaults applied), stored, logged, and recorded as a webhookSubscription.create event', async () => {
    const res = await t.call('POST', '/api/admin/webhookSubscription', { ...base, events: ['cronJob.*', 'invoice.paid', 'cronJob.*'] });
    expect(res.status).toBe(201);
    const { secret, ...body } = (await res.json()) as Subscription & { secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/); // shown this once; the view and its event leave it out
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: base.url,
      events: ['cronJob.*', 'invoice.paid'], // a repeated pattern adds nothing
      description: null,
      enabled: true,
      consecutiveFailures: 0,
      disabledAt: null,
      disabledReason: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = await t.database.db.selectFrom('webhook_subscription').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ url: base.url, events: ['cronJob.*', 'invoice.paid'], enabled: true, consecutive_failures: 0 });
    expect(t.lines.find((l) => l.msg === 'webhook subscription created')).toMatchObject({ actor: 'anonymous', subscriptionId: body.id });
    const events = await outboxRows(t);
    expect(events).toEqual([
      expect.objectContaining({ resource: 'webhookSubscription', action: 'create', resource_id: body.id, data: { ...body, url: 'https://example.com' }, relayed_at: expect.any(Date) }),
    ]);
  });

  it('POST takes every field; created disabled, it says since when and why', async () => {
    const body = await subscribe(t, { url: 'http://127.0.0.1:9999/hook?token=abc', events: ['*'], description: 'billing', enabled: false });
    expect(body).toMatchObject({ url: 'http://127.0.0.1:9999/hook?token=abc', events: ['*'], description: 'billing', enabled: false, disabledAt: expect.any(String) });
    expect(body.disabledReason).toMatch(/disabled through the API by anonymous/);
  });

  it.each([
    ['a URL that is not one', { url: 'not a url' }, 'body.url', /absolute URL/],
    ['an ftp: URL', { url: 'ftp://example.com/x' }, 'body.url', /http or https \(got ftp:\)/],
    ['a javascript: URL', { url: 'javascript:alert(1)' }, 'body.url', /http or https/],
    ['credentials in the URL', { url: 'https://user:secret@example.com/hook' }, 'body.url', /credentials/],
    ['a URL over 2048 characters', { url: `https://example.com/${'a'.repeat(2048)}` }, 'body.url', undefined],
    ['a NUL in the URL', { url: 'https://example.com/a\u0000b' }, 'body.url', undefined],
    ['no url', { url: undefined }, 'body.url', undefined],
    ['no events', { events: [] }, 'body.events', undefined],
    ['51 events', { events: Array.from({ length: 51 }, (_, i) => `r${i}.create`) }, 'body.events', undefined],
    ['events that is not a list', { events: 'cronJob.*' }, 'body.events', undefined],
    ['a bad event pattern', { events: ['cronJob.*', 'cronJob.'] }, 'body.events.1', /resource\.action/],
    ['a three-part event pattern', { events: ['a.b.c'] }, 'body.events.0', undefined],
    ['a wildcard resource', { events: ['*.create'] }, 'body.events.0', undefined],
    ['a NUL in the description', { description: 'a\u0000' }, 'body.description', undefined],
    ['enabled that is not a boolean', { enabled: 'yes' }, 'body.enabled', undefined],
    ['an unknown key', { secret: 'x' }, 'body.secret', undefined],
  ])('POST 400 for %s, naming the field; nothing is stored', async (_label, body, field, detail) => {
    const res = await t.call('POST', '/api/admin/webhookSubscription', { ...base, ...body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as Problem;
    expect(problem.field).toBe(field);
    if (detail) expect(problem.detail).toMatch(detail);
    expect(await countRows(t)).toBe(0);
    expect(await outboxRows(t)).toEqual([]);
  });

  it('GET one: 200 for a subscription, 404 for an unknown uuid or a non-uuid id', async () => {
    const sub = await subscribe(t);
    const res = await t.call('GET', `/api/admin/webhookSubscription/${sub.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(sub);
    for (const id of [UNKNOWN_UUID, 'not-a-uuid', "1' or '1'='1"]) {
      const missing = await t.call('GET', `/api/admin/webhookSubscription/${encodeURIComponent(id)}`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
    }
    for (const [method, path] of [['PATCH', 'not-a-uuid'], ['DELETE', 'not-a-uuid'], ['GET', 'not-a-uuid/event'], ['POST', 'not-a-uuid/replay']] as const) {
      expect((await t.call(method, `/api/admin/webhookSubscription/${path}`, method === 'PATCH' ? { description: 'x' } : undefined)).status).toBe(404);
    }
  });

  it('lists oldest first across pages, and filters by enabled', async () => {
    const made: Subscription[] = [];
    for (let i = 0; i < 5; i++) made.push(await subscribe(t, { description: `sub ${i}`, enabled: i !== 2 }));
    // Rows sharing one microsecond-precise instant still page without loss or repeats.
    const at = (us: string) => `2024-05-01T12:00:00.123${us}Z`;
    const stamps = [at('455'), at('456'), at('456'), at('456'), at('457')];
    for (const [i, sub] of made.entries()) await t.database.db.updateTable('webhook_subscription').set({ created_at: stamps[i]! }).where('id', '=', sub.id).execute();
    const expected = (await t.database.db.selectFrom('webhook_subscription').select('id').orderBy('created_at').orderBy('id').execute()).map((r) => r.id);

    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.call('GET', `/api/admin/webhookSubscription?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      ids.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(ids).toEqual(expected);

    const list = async (query: string) => ((await (await t.call('GET', `/api/admin/webhookSubscription?${query}`)).json()) as Page).items.map((i) => i.id);
    expect(await list('enabled=false')).toEqual([made[2]!.id]);
    expect(await list('enabled=true')).toHaveLength(4);
  });

  it.each([
    ['cursor=garbage!', 'query.cursor'],
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['enabled=yes', 'query.enabled'],
  ])('list 400 for %s', async (query, field) => {
    const res = await t.call('GET', `/api/admin/webhookSubscription?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).field).toBe(field);
  });

  it('PATCH changes only what it is given, bumps updatedAt, and records a webhookSubscription.update event', async () => {
    const sub = await subscribe(t, { description: 'before' });
    const res = await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { events: ['*'], url: 'https://example.org/new' });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as Subscription;
    expect(updated).toEqual({ ...sub, events: ['*'], url: 'https://example.org/new', updatedAt: expect.any(String) });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(sub.updatedAt));
    expect((await outboxRows(t)).map((e) => [e.action, e.resource_id])).toEqual([
      ['create', sub.id],
      ['update', sub.id],
    ]);
    expect((await outboxRows(t))[1]!.data).toEqual({ ...updated, url: 'https://example.org' }); // without its path (urlWithoutSecrets)

    const cleared = await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { description: null });
    expect(((await cleared.json()) as Subscription).description).toBeNull();
    // An empty patch changes nothing and records nothing.
    expect(await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, {})).json()).toMatchObject({ id: sub.id, description: null });
    expect(await outboxRows(t)).toHaveLength(3);

    expect(((await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { url: 'ftp://x' })).json()) as Problem).field).toBe('body.url');
    expect(((await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { events: ['nope'] })).json()) as Problem).field).toBe('body.events.0');
    expect(((await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { consecutiveFailures: 0 })).json()) as Problem).field).toBe('body.consecutiveFailures');
    expect((await t.call('PATCH', `/api/admin/webhookSubscription/${UNKNOWN_UUID}`, { description: 'x' })).status).toBe(404);
  });

  it('PATCH enabled:false disables (with a reason); enabled:true re-enables: failures reset, disabledAt/reason cleared', async () => {
    const sub = await subscribe(t);
    const off = (await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: false })).json()) as Subscription;
    expect(off).toMatchObject({ enabled: false, disabledAt: expect.any(String), disabledReason: expect.stringMatching(/disabled through the API/) });

    // As the circuit breaker leaves it.
    await t.database.db
      .updateTable('webhook_subscription')
      .set({ enabled: false, consecutive_failures: 5, disabled_at: new Date(), disabled_reason: '5 consecutive failed attempts (last: http_5xx)' })
      .where('id', '=', sub.id)
      .execute();
    const tripped = (await (await t.call('GET', `/api/admin/webhookSubscription/${sub.id}`)).json()) as Subscription;
    expect(tripped).toMatchObject({ enabled: false, consecutiveFailures: 5, disabledReason: '5 consecutive failed attempts (last: http_5xx)' });
    // Editing something else keeps it disabled, reason and all.
    expect(await (await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { description: 'x' })).json()).toMatchObject({ enabled: false, consecutiveFailures: 5 });

    const res = await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { enabled: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledAt: null, disabledReason: null });
    expect(t.lines.find((l) => l.msg === 'webhook subscription updated' && l.reenabled)).toMatchObject({ subscriptionId: sub.id });
  });

  it('DELETE answers 204, records webhookSubscription.delete, and takes the attempt log with it', async () => {
    const sub = await subscribe(t);
    await t.database.db
      .insertInto('webhook_event')
      .values({ subscription_id: sub.id, webhook_id: 'evt_1', attempt: 1, action: 'create', resource: 'cronJob', resource_id: 'x', request_body: {}, success: true })
      .execute();
    const res = await t.call('DELETE', `/api/admin/webhookSubscription/${sub.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await t.call('GET', `/api/admin/webhookSubscription/${sub.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/api/admin/webhookSubscription/${sub.id}`)).status).toBe(404);
    expect(await countRows(t)).toBe(0);
    expect(await t.database.db.selectFrom('webhook_event').selectAll().execute()).toEqual([]);
    expect((await outboxRows(t)).at(-1)).toMatchObject({ resource: 'webhookSubscription', action: 'delete', resource_id: sub.id, data: { id: sub.id, url: 'https://example.com' } });
  });

  it('events about a subscription do not leak the secrets its URL may carry', async () => {
    const sub = await subscribe(t, { url: 'https://hooks.example.com/in/abc?token=s3cret#frag' });
    const created = (await outboxRows(t)).at(-1)!;
    expect(created).toMatchObject({ resource: 'webhookSubscription', action: 'create', resource_id: sub.id, data: { url: 'https://hooks.example.com' } });
    // The path goes too: receivers such as Slack carry the secret there (SPEC §14).
    expect(JSON.stringify(created.data)).not.toContain('s3cret');
    expect(JSON.stringify(created.data)).not.toContain('/in/abc');
  });

  it('documents every webhook route in the OpenAPI document under the webhooks tag', async () => {
    const doc = (await (await t.call('GET', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>> };
    const expected: Record<string, string[]> = {
      '/api/admin/webhookSubscription': ['get', 'post'],
      '/api/admin/webhookSubscription/{id}': ['delete', 'get', 'patch'],
      '/api/admin/webhookSubscription/{id}/event': ['get'],
      '/api/admin/webhookSubscription/{id}/replay': ['post'],
      '/api/admin/webhookSubscription/{id}/secret': ['get'],
      '/api/admin/webhookSubscription/{id}/rotateSecret': ['post'],
      '/api/admin/webhookEvent/{id}/replay': ['post'],
      '/api/admin/event': ['post'],
      '/.well-known/jwks.json': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      expect(Object.keys(doc.paths[path] ?? {}).sort(), path).toEqual(methods);
      for (const method of methods) expect(doc.paths[path]![method]!.tags).toEqual(['webhooks']);
    }
    expect(Object.keys(doc.paths['/api/admin/webhookSubscription']!.post!.responses)).toEqual(expect.arrayContaining(['201', '400']));
    expect(Object.keys(doc.paths['/api/admin/webhookEvent/{id}/replay']!.post!.responses)).toEqual(expect.arrayContaining(['202', '404', '409']));
    expect(Object.keys(doc.paths['/api/admin/event']!.post!.responses)).toEqual(expect.arrayContaining(['202', '400']));
  });
});

describe('webhook subscriptions outside local/test', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Both only pass config validation: the harness brings its own database and signing key.
    t = await createTestApp({ env: { APP_ENV: 'staging', DATABASE_URL: 'postgres://unused/x', WEBHOOK_SIGNING_KEY_FILE: '/unused' } });
  });
  afterAll(() => t?.close());

  it('refuses plain http (400 naming body.url) on create and update; https is fine', async () => {
    const res = await t.call('POST', '/api/admin/webhookSubscription', { ...base, url: 'http://example.com/hook' });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem).toMatchObject({ field: 'body.url', detail: expect.stringMatching(/https .*APP_ENV=staging/) });
    expect(await countRows(t)).toBe(0);

    const sub = await subscribe(t);
    const patch = await t.call('PATCH', `/api/admin/webhookSubscription/${sub.id}`, { url: 'http://example.com/hook' });
    expect(patch.status).toBe(400);
    expect(((await patch.json()) as Problem).field).toBe('body.url');
  });
});

describe('webhook routes with auth', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ auth: true });
  });
  afterEach(() => t.close());

  it('need jobs:admin: jobs:enqueue gets 403 on every webhook route; an admin gets through', async () => {
    const enqueuer = await mintToken({ scope: 'jobs:enqueue' });
    const admin = await mintToken({ scope: 'jobs:admin', sub: 'ops-bob' });
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/admin/webhookSubscription'],
      ['POST', '/api/admin/webhookSubscription', base],
      ['GET', `/api/admin/webhookSubscription/${UNKNOWN_UUID}`],
      ['PATCH', `/api/admin/webhookSubscription/${UNKNOWN_UUID}`, { enabled: true }],
      ['DELETE', `/api/admin/webhookSubscription/${UNKNOWN_UUID}`],
      ['GET', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/event`],
      ['POST', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/replay`],
      ['GET', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/secret`],
      ['POST', `/api/admin/webhookSubscription/${UNKNOWN_UUID}/rotateSecret`],
      ['POST', `/api/admin/webhookEvent/${UNKNOWN_UUID}/replay`],
      ['POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: '1' }],
    ];
    for (const [method, path, body] of routes) {
      expect((await t.call(method, path, body)).status, `${method} ${path} without a token`).toBe(401);
      expect((await t.call(method, path, body, { token: enqueuer })).status, `${method} ${path} as jobs:enqueue`).toBe(403);
    }
    expect(await countRows(t)).toBe(0);
    const created = await t.call('POST', '/api/admin/webhookSubscription', base, { token: admin });
    expect(created.status).toBe(201);
    expect(t.lines.find((l) => l.msg === 'webhook subscription created')).toMatchObject({ actor: 'ops-bob' });
    expect((await t.call('GET', '/api/admin/webhookSubscription', undefined, { token: admin })).status).toBe(200);
  });

  it('serves the JWKS without a token', async () => {
    expect((await t.call('GET', '/.well-known/jwks.json')).status).toBe(200);
  });
});
