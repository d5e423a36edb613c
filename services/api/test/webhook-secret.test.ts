import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { backfillSubscriptionSecrets, createWebhookSecretBox, signingSecretsOf, webhookHeaders } from '../../../shared/src/webhooks/index.js';
import type { WebhookSubscriptionView } from '../src/webhooks/webhook-views.js';
import { outboxRows } from './helpers/rows.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

type Created = WebhookSubscriptionView & { secret: string };
type Rotated = { secret: string; previousSecretExpiresAt: string | null };

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
const base = { url: 'https://example.com/hooks/jobs', events: ['cronJob.*'] };
const path = '/api/admin/webhookSubscription';

/** The parts of a secret that must never show: the whole `whsec_…` and its bare HMAC key. */
const secretParts = (secret: string) => [secret, secret.slice('whsec_'.length)];

async function json<T>(res: Response, status: number): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}

describe('webhook subscription secrets (SPEC §18)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  const storedRow = (id: string) => t.database.db.selectFrom('webhook_subscription').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('create answers the secret once; GET …/secret gives the same; it is in no list/read/update/delete response, event data, log line or column in clear', async () => {
    const created = await t.call('POST', path, base);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { secret, ...view } = await json<Created>(created, 201);
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    const read = await t.call('GET', `${path}/${view.id}/secret`);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(await json<{ secret: string }>(read, 200)).toEqual({ secret });

    // Stored encrypted, bound to this row, never in clear.
    const row = await storedRow(view.id);
    expect(row.secret_ciphertext).toMatch(new RegExp(`^v1:${t.deps.webhookSecrets.keyId}:`));
    expect(t.deps.webhookSecrets.decrypt(row.secret_ciphertext!, view.id)).toBe(secret);

    const shown = [
      await json<unknown>(await t.call('GET', path), 200),
      await json<unknown>(await t.call('GET', `${path}/${view.id}`), 200),
      await json<unknown>(await t.call('PATCH', `${path}/${view.id}`, { description: 'x' }), 200),
    ];
    for (const body of shown) {
      expect(JSON.stringify(body)).not.toMatch(/secret|ciphertext/i);
    }
    expect(await json<WebhookSubscriptionView>(await t.call('GET', `${path}/${view.id}`), 200)).not.toHaveProperty('secret');
    expect((await t.call('DELETE', `${path}/${view.id}`)).status).toBe(204);

    // webhookSubscription.create / update / delete events carry the view only.
    const events = await outboxRows(t);
    expect(events.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
    const everywhere = [JSON.stringify(events), JSON.stringify(t.lines)];
    for (const text of everywhere) {
      for (const part of [...secretParts(secret), row.secret_ciphertext!]) expect(text).not.toContain(part);
    }
    expect(t.lines.find((l) => l.msg === 'webhook subscription secret read')).toMatchObject({ subscriptionId: view.id });
  });

  it('rotateSecret: a new secret; deliveries are signed with both for 24 h (each verifies with standardwebhooks), then with the new one only', async () => {
    const { id, secret: old } = await json<Created>(await t.call('POST', path, base), 201);
    const rotated = await json<Rotated>(await t.call('POST', `${path}/${id}/rotateSecret`), 200);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(old);
    const expiresIn = Date.parse(rotated.previousSecretExpiresAt!) - Date.now();
    expect(expiresIn).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3600_000);
    expect(await json<{ secret: string }>(await t.call('GET', `${path}/${id}/secret`), 200)).toEqual({ secret: rotated.secret });

    // What sendWebhook signs with for this row now, verified as a receiver would.
    const deliver = async () => {
      const body = JSON.stringify({ id: 'evt_1', type: 'cronJob.create' });
      const secrets = await signingSecretsOf(t.database.db, t.deps.webhookSecrets, await storedRow(id));
      const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp: Math.floor(Date.now() / 1000), body, keys: t.deps.signingKeys.all, secrets });
      return { body, headers };
    };
    const during = await deliver();
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [rotated.secret, old]) expect(new Webhook(secret).verify(during.body, during.headers)).toMatchObject({ id: 'evt_1' });

    await t.database.db.updateTable('webhook_subscription').set({ secret_rotated_at: new Date(Date.now() - 24 * 3600_000 - 1_000) }).where('id', '=', id).execute();
    const after = await deliver();
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new Webhook(rotated.secret).verify(after.body, after.headers)).toMatchObject({ id: 'evt_1' });
    expect(() => new Webhook(old).verify(after.body, after.headers)).toThrow(/No matching signature/);

    expect(t.lines.find((l) => l.msg === 'webhook subscription secret rotated')).toMatchObject({ subscriptionId: id });
    for (const part of [...secretParts(old), ...secretParts(rotated.secret)]) expect(JSON.stringify(t.lines)).not.toContain(part);
  });

  it('after WEBHOOK_SECRET_KEY changed: GET …/secret answers 409 naming both key ids (not a 500), and rotateSecret gives a usable secret without an overlap', async () => {
    const { id } = await json<Created>(await t.call('POST', path, base), 201);
    const oldKeyId = t.deps.webhookSecrets.keyId;
    t.deps.webhookSecrets = createWebhookSecretBox(randomBytes(32));
    // The routes read deps per request, so the app now runs with another key.
    const problem = await json<{ detail: string }>(await t.call('GET', `${path}/${id}/secret`), 409);
    expect(problem.detail).toContain(`encrypted under key id ${oldKeyId}, but WEBHOOK_SECRET_KEY is key id ${t.deps.webhookSecrets.keyId}`);
    const rotated = await json<Rotated>(await t.call('POST', `${path}/${id}/rotateSecret`), 200);
    expect(rotated.previousSecretExpiresAt).toBeNull();
    expect(await json<{ secret: string }>(await t.call('GET', `${path}/${id}/secret`), 200)).toEqual({ secret: rotated.secret });
    expect(await signingSecretsOf(t.database.db, t.deps.webhookSecrets, await storedRow(id))).toEqual([rotated.secret]);
  });

  it('GET …/secret and rotateSecret answer 404 for an unknown uuid or a non-uuid id', async () => {
    for (const id of [UNKNOWN_UUID, 'not-a-uuid']) {
      for (const [method, suffix] of [['GET', 'secret'], ['POST', 'rotateSecret']] as const) {
        const res = await t.call(method, `${path}/${id}/${suffix}`);
        expect(res.status, `${method} ${id}/${suffix}`).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
  });

  it('a subscription from before migration 0003 gets its secret from the start-up backfill (or from GET …/secret)', async () => {
    const insert = async () =>
      (await t.database.db.insertInto('webhook_subscription').values({ url: base.url, events: ['*'] }).returning('id').executeTakeFirstOrThrow()).id;
    const [a, b] = [await insert(), await insert()];
    expect(await backfillSubscriptionSecrets(t.database.db, t.deps.webhookSecrets)).toBe(2);
    expect(await backfillSubscriptionSecrets(t.database.db, t.deps.webhookSecrets)).toBe(0);
    for (const id of [a, b]) expect((await storedRow(id)).secret_ciphertext).toMatch(/^v1:/);
    const { secret } = await json<{ secret: string }>(await t.call('GET', `${path}/${a}/secret`), 200);
    expect(t.deps.webhookSecrets.decrypt((await storedRow(a)).secret_ciphertext!, a)).toBe(secret);

    const c = await insert();
    const first = await json<{ secret: string }>(await t.call('GET', `${path}/${c}/secret`), 200);
    expect(await json<{ secret: string }>(await t.call('GET', `${path}/${c}/secret`), 200)).toEqual(first);
  });
});

describe('webhook subscription secrets with auth', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ auth: true });
  });
  afterEach(() => t.close());

  it('only jobs:admin reads or rotates a secret: jobs:enqueue gets 403 and no secret', async () => {
    const admin = await mintToken({ scope: 'jobs:admin', sub: 'ops-alice' });
    const enqueuer = await mintToken({ scope: 'jobs:enqueue' });
    const created = await t.call('POST', path, base, { token: admin });
    const { id, secret } = await json<Created>(created, 201);
    for (const [method, suffix] of [['GET', 'secret'], ['POST', 'rotateSecret']] as const) {
      const res = await t.call(method, `${path}/${id}/${suffix}`, undefined, { token: enqueuer });
      expect(res.status, `${method} ${suffix} as jobs:enqueue`).toBe(403);
      expect(await res.text()).not.toContain(secret.slice(6));
      expect((await t.call(method, `${path}/${id}/${suffix}`)).status).toBe(401);
    }
    expect(await json<{ secret: string }>(await t.call('GET', `${path}/${id}/secret`, undefined, { token: admin }), 200)).toEqual({ secret });
    const rotated = await json<Rotated>(await t.call('POST', `${path}/${id}/rotateSecret`, undefined, { token: admin }), 200);
    expect(rotated.secret).not.toBe(secret);
    expect(t.lines.find((l) => l.msg === 'webhook subscription secret rotated')).toMatchObject({ actor: 'ops-alice', subscriptionId: id });
  });
});
