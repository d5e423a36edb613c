import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SendWebhookPayload } from '../../../shared/src/webhooks/index.js';
import type { NewWebhookEvent } from '../../../shared/src/db/index.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { outboxRows } from './helpers/rows.js';

const AUTH = `Basic ${Buffer.from('ops:console-pass').toString('base64')}`;
const ORIGIN = 'http://localhost';

/** The console's webhook pages in-process, behind basic auth (APP_ENV=test with BullBoard's credentials). */
describe('console webhook pages (forms, actions, log) over HTTP', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'console-pass' } });
  });
  afterEach(() => t.close());

  const get = (path: string) => t.app.request(path, { headers: { authorization: AUTH } });
  const post = (path: string, fields: Record<string, string> = {}, origin = ORIGIN) =>
    t.app.request(path, {
      method: 'POST',
      headers: { authorization: AUTH, origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  const subscriptions = () => t.database.db.selectFrom('webhook_subscription').selectAll().execute();
  const create = async (fields: Record<string, string> = {}) => {
    const res = await post('/console/webhooks', { url: 'https://example.com/hooks/s3cr3t-token?key=k', events: 'cronJob.*, invoice.paid', enabled: 'on', ...fields });
    expect(res.status, await res.clone().text()).toBe(303);
    const id = /^\/console\/webhooks\/([0-9a-f-]{36})$/.exec(res.headers.get('location') ?? '')?.[1];
    const row = (await subscriptions()).find((r) => r.id === id);
    expect(row, `redirected to ${res.headers.get('location')}`).toBeDefined();
    return row!;
  };
  const queuedDeliveries = async () =>
    (await t.deps.jobs.queue.getJobs(['waiting', 'delayed', 'prioritized']))
      .filter((job) => job.name === 'sendWebhook')
      .map((job) => ({ id: job.id!, payload: (job.data as { payload: SendWebhookPayload }).payload }));

  it('create: a bad URL and a bad event pattern answer 400 with each message beside its field, and no row', async () => {
    const res = await post('/console/webhooks', { url: 'ftp://example.com', events: 'cronJob.*, not a pattern!', enabled: 'on' });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toMatch(/id="field-url"[^>]*aria-describedby="field-url-hint field-url-error"[^>]*aria-invalid="true"/);
    expect(page).toMatch(/<span class="error" id="field-url-error">must use http or https \(got ftp:\)<\/span>/);
    expect(page).toMatch(/<span class="error" id="field-events-error">&quot;not&quot; must be/);
    expect(page).toContain('value="ftp://example.com"'); // what was typed stays
    expect(await subscriptions()).toEqual([]);
  });

  it('create: writes the row and the same outbox event as the API; the list shows the URL without its secrets', async () => {
    const row = await create({ description: 'billing' });
    expect(row).toMatchObject({ url: 'https://example.com/hooks/s3cr3t-token?key=k', events: ['cronJob.*', 'invoice.paid'], description: 'billing', enabled: true });
    expect(row.secret_ciphertext).toEqual(expect.any(String));
    expect((await outboxRows(t)).map((r) => `${r.resource}.${r.action}:${r.resource_id}`)).toContain(`webhookSubscription.create:${row.id}`);

    const list = await (await get('/console/webhooks')).text();
    expect(list).toContain('https://example.com');
    expect(list).not.toContain('s3cr3t-token');
    expect(list).not.toContain('whsec_');
    expect(list).toContain('<code>cronJob.*</code>, <code>invoice.paid</code>');
    expect(list).toContain('no attempts');
    const detail = await (await get(`/console/webhooks/${row.id}`)).text();
    expect(detail).not.toContain('s3cr3t-token');
  });

  it('edit: the API validation applies (400 beside the field, row unchanged); a good edit saves and records an update event', async () => {
    const row = await create();
    const edit = await (await get(`/console/webhooks/${row.id}/edit`)).text();
    expect(edit).toContain('value="https://example.com/hooks/s3cr3t-token?key=k"');
    const bad = await post(`/console/webhooks/${row.id}`, { url: 'https://user:pw@example.com/x', events: '*', enabled: 'on' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/id="field-url-error">must not contain credentials/);
    expect((await subscriptions())[0]!.url).toBe(row.url);

    const good = await post(`/console/webhooks/${row.id}`, { url: 'https://example.org/in', events: 'invoice.*', description: '', enabled: 'on' });
    expect(good.status).toBe(303);
    expect((await subscriptions())[0]).toMatchObject({ url: 'https://example.org/in', events: ['invoice.*'], description: null });
    expect((await outboxRows(t)).filter((r) => r.resource === 'webhookSubscription').map((r) => r.action)).toEqual(['create', 'update']);
  });

  it('disable and enable: the row, its reason and the outbox follow; the list shows the state with its reason', async () => {
    const row = await create();
    expect((await post(`/console/webhooks/${row.id}/disable`, { back: '/console/webhooks' })).headers.get('location')).toBe('/console/webhooks');
    expect((await subscriptions())[0]).toMatchObject({ enabled: false, disabled_reason: 'disabled in the console by ops' });
    const list = await (await get('/console/webhooks')).text();
    expect(list).toContain('<span class="badge bad">Disabled</span> <span>disabled in the console by ops</span>');
    expect(list).toMatch(/<button type="submit" class="secondary"[^>]*>Enable<span class="visually-hidden"> https:\/\/example.com<\/span><\/button>/);

    // A back link to another site is not followed.
    expect((await post(`/console/webhooks/${row.id}/enable`, { back: 'https://evil.example/' })).headers.get('location')).toBe(`/console/webhooks/${row.id}`);
    expect((await subscriptions())[0]).toMatchObject({ enabled: true, disabled_reason: null, consecutive_failures: 0 });
    expect((await outboxRows(t)).filter((r) => r.resource === 'webhookSubscription').map((r) => r.action)).toEqual(['create', 'update', 'update']);
  });

  it('the list pages by 20 with a Next page link; a forged cursor answers 400, not a database error', async () => {
    await t.database.db
      .insertInto('webhook_subscription')
      .values(Array.from({ length: 21 }, (_, i) => ({ url: `https://host-${i}.example/x`, events: ['*'], created_at: new Date(Date.now() - (30 - i) * 1000) })))
      .execute();
    const rowsOf = (page: string) => [...page.matchAll(/class="mono" id="sub-[^"]+">https:\/\/(host-\d+)\.example</g)].map((m) => m[1]);
    const first = await (await get('/console/webhooks')).text();
    expect(rowsOf(first)).toEqual(Array.from({ length: 20 }, (_, i) => `host-${i}`));
    const next = /<a href="([^"]+)">Next page<\/a>/.exec(first)?.[1];
    expect(next).toMatch(/^\/console\/webhooks\?cursor=/);
    const second = await (await get(next!)).text();
    expect(rowsOf(second)).toEqual(['host-20']);
    expect(second).toContain('>First page</a>');
    expect(second).not.toContain('Next page');
    expect((await get('/console/webhooks?cursor=forged')).status).toBe(400);
  });

  it('a cross-origin form post changes nothing (403)', async () => {
    const row = await create();
    const res = await post(`/console/webhooks/${row.id}/disable`, {}, 'https://evil.example');
    expect(res.status).toBe(403);
    expect((await subscriptions())[0]!.enabled).toBe(true);
    expect((await post('/console/webhooks', { url: 'https://a.example/x', events: '*' }, 'https://evil.example')).status).toBe(403);
    expect(await subscriptions()).toHaveLength(1);
  });

  it('signing secret: Reveal shows the stored secret once (no-store); Rotate asks first, then shows a new one and keeps the old for 24 h', async () => {
    const row = await create();
    const stored = t.deps.webhookSecrets.decrypt(row.secret_ciphertext!, row.id);
    expect(await (await get(`/console/webhooks/${row.id}`)).text()).not.toContain(stored);
    const revealed = await post(`/console/webhooks/${row.id}/secret`);
    expect(revealed.status).toBe(200);
    expect(revealed.headers.get('cache-control')).toBe('no-store');
    expect(await revealed.text()).toContain(`value="${stored}"`);

    const confirm = await (await get(`/console/webhooks/${row.id}/rotate-secret`)).text();
    expect(confirm).toMatch(/<form method="post" action="\/console\/webhooks\/[^"]+\/rotate-secret"><button type="submit">Rotate secret<\/button>/);
    expect((await subscriptions())[0]!.secret_ciphertext).toBe(row.secret_ciphertext); // asking changed nothing
    const rotated = await post(`/console/webhooks/${row.id}/rotate-secret`);
    const fresh = (await subscriptions())[0]!;
    const secret = t.deps.webhookSecrets.decrypt(fresh.secret_ciphertext!, row.id);
    expect(secret).not.toBe(stored);
    expect(secret).toMatch(/^whsec_/);
    expect(await rotated.text()).toContain(`value="${secret}"`);
    expect(fresh.secret_rotated_at).toBeInstanceOf(Date);
  });

  it('delete asks for confirmation, then deletes the row and records the delete event', async () => {
    const row = await create();
    const confirm = await get(`/console/webhooks/${row.id}/delete`);
    expect(await confirm.text()).toContain('>Delete subscription</button>');
    expect(await subscriptions()).toHaveLength(1);
    expect((await post(`/console/webhooks/${row.id}/delete`)).headers.get('location')).toBe('/console/webhooks');
    expect(await subscriptions()).toEqual([]);
    expect((await outboxRows(t)).map((r) => r.action)).toContain('delete');
    expect((await get(`/console/webhooks/${row.id}`)).status).toBe(404);
  });

  describe('delivery log', () => {
    const attempt = (subscriptionId: string, overrides: Partial<NewWebhookEvent>): NewWebhookEvent => ({
      subscription_id: subscriptionId,
      webhook_id: 'evt_one',
      job_id: 'job-1',
      attempt: 1,
      action: 'create',
      resource: 'cronJob',
      resource_id: 'r-1',
      request_body: { id: 'evt_one', type: 'cronJob.create', resource: 'cronJob', action: 'create', resourceId: 'r-1', occurredAt: '2024-05-01T12:00:00.000Z', data: { name: 'nightly' } },
      response_status: 503,
      response_body: 'upstream <down>',
      error: 'http_5xx',
      duration_ms: 42,
      success: false,
      ...overrides,
    });

    it('filters narrow the log; a bad filter answers 400 beside its field; an attempt shows its request and response', async () => {
      const row = await create();
      const ago = (s: number) => new Date(Date.now() - s * 1000);
      const [failed] = await t.database.db
        .insertInto('webhook_event')
        .values([
          attempt(row.id, { created_at: ago(30) }),
          attempt(row.id, { attempt: 2, error: 'timeout', response_status: null, response_body: null, created_at: ago(20) }),
          attempt(row.id, { webhook_id: 'evt_two', action: 'paid', resource: 'invoice', success: true, error: null, response_status: 200, response_body: 'ok', created_at: ago(10) }),
        ])
        .returning('id')
        .execute();

      const all = await (await get(`/console/webhooks/${row.id}/deliveries`)).text();
      expect(all.match(/<tr class="attempt">/g)).toHaveLength(3);
      expect(all.indexOf('evt_two')).toBeLessThan(all.indexOf('evt_one')); // newest event first
      const onlyFailed = await (await get(`/console/webhooks/${row.id}/deliveries?outcome=failed`)).text();
      expect(onlyFailed.match(/<tr class="attempt">/g)).toHaveLength(2);
      expect(onlyFailed).not.toContain('evt_two');
      const timeouts = await (await get(`/console/webhooks/${row.id}/deliveries?error=timeout`)).text();
      expect(timeouts.match(/<tr class="attempt">/g)).toHaveLength(1);
      const invoices = await (await get(`/console/webhooks/${row.id}/deliveries?type=invoice.*`)).text();
      expect(invoices.match(/<tr class="attempt">/g)).toHaveLength(1);
      expect(invoices).toContain('evt_two');

      const bad = await get(`/console/webhooks/${row.id}/deliveries?type=not+a+type`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/id="field-type"[^>]*aria-invalid="true"[\s\S]*id="field-type-error">must be/);

      const detail = await (await get(`/console/webhooks/${row.id}/deliveries/${failed!.id}`)).text();
      expect(detail).toContain('&quot;resourceId&quot;: &quot;r-1&quot;'); // pretty-printed and escaped
      expect(detail).toContain('upstream &lt;down&gt;');
      expect(detail).toContain('<code>http_5xx</code>');
      expect(detail).toContain('42 ms');
      expect(detail).toContain('<a href="/bullBoard/queue/jobs/job-1">View job in BullBoard</a>');
      // An attempt only under its own subscription's path.
      const other = await create({ url: 'https://other.example/x' });
      expect((await get(`/console/webhooks/${other.id}/deliveries/${failed!.id}`)).status).toBe(404);
    });

    it('pages hold 20 events; "Older events" keeps the filter and continues where the page ended', async () => {
      const row = await create();
      const start = Date.now() - 60_000;
      await t.database.db
        .insertInto('webhook_event')
        .values(
          Array.from({ length: 25 }, (_, i) =>
            attempt(row.id, { webhook_id: `evt_${String(i).padStart(2, '0')}`, created_at: new Date(start + i * 1000), ...(i % 5 === 0 ? { success: true, error: null, response_status: 200 } : {}) }),
          ),
        )
        .execute();
      const eventIds = (page: string) => [...page.matchAll(/<p class="muted">Event <a [^>]*>(evt_\d+)<\/a>/g)].map((m) => m[1]);
      const first = await (await get(`/console/webhooks/${row.id}/deliveries?outcome=failed`)).text();
      const failedNewestFirst = Array.from({ length: 25 }, (_, i) => 24 - i).filter((i) => i % 5 !== 0);
      expect(eventIds(first)).toEqual(failedNewestFirst.map((i) => `evt_${String(i).padStart(2, '0')}`));
      const older = /<a href="([^"]+)">Older events<\/a>/.exec(first)?.[1];
      expect(older).toBeUndefined(); // 20 failed events in all: one page
      const all = await (await get(`/console/webhooks/${row.id}/deliveries`)).text();
      expect(eventIds(all)).toHaveLength(20);
      const next = /<a href="([^"]+)">Older events<\/a>/.exec(all)?.[1]?.replaceAll('&amp;', '&');
      expect(next).toMatch(/^\/console\/webhooks\/[^?]+\/deliveries\?cursor=/);
      expect(eventIds(await (await get(next!)).text())).toEqual(['evt_04', 'evt_03', 'evt_02', 'evt_01', 'evt_00']);
      const typed = await (await get(`/console/webhooks/${row.id}/deliveries?type=cronJob.*`)).text();
      expect(/<a href="([^"]+)">Older events<\/a>/.exec(typed)?.[1]).toMatch(/\?type=cronJob\.\*&amp;cursor=/);
    });

    it('Replay queues the event again with the same event id; while disabled it says to enable first and queues nothing', async () => {
      const row = await create();
      const [stored] = await t.database.db.insertInto('webhook_event').values([attempt(row.id, {})]).returning('id').execute();
      const replay = await post(`/console/webhooks/${row.id}/deliveries/${stored!.id}/replay`, { back: `/console/webhooks/${row.id}/deliveries` });
      expect(replay.headers.get('location')).toBe(`/console/webhooks/${row.id}/deliveries`);
      const replays = (await queuedDeliveries()).filter((d) => d.payload.webhookId === 'evt_one');
      expect(replays).toHaveLength(1);
      expect(replays[0]!.payload).toMatchObject({ subscriptionId: row.id, resource: 'cronJob', action: 'create', resourceId: 'r-1', data: { name: 'nightly' } });

      await post(`/console/webhooks/${row.id}/disable`);
      const refused = await post(`/console/webhooks/${row.id}/deliveries/${stored!.id}/replay`);
      expect(refused.status).toBe(303);
      const page = await (await t.app.request(refused.headers.get('location')!, { headers: { authorization: AUTH, cookie: refused.headers.get('set-cookie')!.split(';')[0]! } })).text();
      expect(page).toContain('The subscription is disabled: enable it first');
      expect((await queuedDeliveries()).filter((d) => d.payload.webhookId === 'evt_one')).toHaveLength(1);
    });
  });
});
