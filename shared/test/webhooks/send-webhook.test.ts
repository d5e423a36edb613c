import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createJobClient, createWorker, jobHandlers, verifyWebhook, type JobClient, type JobWorker } from '../../src/index.js';
import { createWebhookHttpClient, createWebhookSecretBox, ensureSubscriptionSecret, generateSubscriptionSecret, jwks, loadSigningKeys, noWebhookMetrics, recordWebhookEvent, WEBHOOK_ID_PATTERN, relayOutbox, rotateSubscriptionSecret, type SigningKey, type WebhookRuntime } from '../../src/webhooks/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../../scripts/lib/private-redis.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

type Handler = (req: ReceivedRequest, res: ServerResponse) => void;

describe('sendWebhook end to end (real receiver, Postgres, Redis, worker)', () => {
  let database: TestDatabase;
  let prefix: string;
  let dataDir: string;
  let keys: SigningKey[];
  let receiver: Receiver;
  let client: JobClient<typeof jobHandlers>;
  let worker: JobWorker | undefined;
  let redisUrl: string;
  let privateRedis: PrivateRedis | undefined;
  const box = createWebhookSecretBox(randomBytes(32));

  beforeEach(async () => {
    database = await createTestDatabase();
    prefix = testPrefix('wh');
    dataDir = await mkdtemp(join(tmpdir(), 'wh-keys-'));
    keys = (await loadSigningKeys(loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir }))).all;
    redisUrl = TEST_REDIS_URL;
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await client?.close();
    await receiver?.close();
    await privateRedis?.stop();
    privateRedis = undefined;
    await database.close();
    await cleanupPrefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(handler: Handler, options: { allowPrivate?: boolean; timeoutMs?: number; signingKeys?: SigningKey[] } = {}) {
    receiver = await startReceiver(handler);
    client = createJobClient({ handlers: jobHandlers, redisUrl, prefix });
    const config = loadConfig({ APP_ENV: 'test' });
    const webhooks: WebhookRuntime = {
      signingKeys: options.signingKeys ?? keys,
      secretBox: box,
      http: createWebhookHttpClient({ timeoutMs: options.timeoutMs ?? config.webhook.timeoutMs, allowPrivateNetworks: options.allowPrivate ?? true }),
      failureThreshold: config.webhook.failureThreshold,
      eventRetentionDays: 30,
      metrics: noWebhookMetrics,
      relay: () => relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o)),
    };
    worker = createWorker({ handlers: jobHandlers, redisUrl, prefix, logger: captureLogger('warn').log, services: { db: database.db, webhooks } });
    await worker.waitUntilReady();
  }
  const subscribe = async (url: string, events = ['*']) =>
    (await database.db.insertInto('webhook_subscription').values({ url, events }).returning('id').executeTakeFirstOrThrow()).id;
  /** A subscription as the API creates it: with its own secret, stored encrypted. */
  const subscribeWithSecret = async (url: string) => {
    const id = await subscribe(url);
    const secret = generateSubscriptionSecret();
    await database.db.updateTable('webhook_subscription').set({ secret_ciphertext: box.encrypt(secret, id) }).where('id', '=', id).execute();
    return { id, secret };
  };
  const headersOf = (req: ReceivedRequest) => req.headers as Record<string, string>;
  const attempts = (subscriptionId: string) =>
    database.db.selectFrom('webhook_event').selectAll().where('subscription_id', '=', subscriptionId).orderBy('created_at').orderBy('attempt').execute();
  const publish = async (resourceId: string) => {
    const { webhookId } = await recordWebhookEvent(database.db, { resource: 'cronJob', action: 'create', resourceId, data: { name: 'nightly' } });
    await relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o));
    return webhookId;
  };

  it('POSTs the SPEC body with headers whose signature verifies against the JWKS; one success row', async () => {
    await start((_req, res) => res.end('thanks'));
    const sub = await subscribe(`${receiver.origin}/hook`);
    const webhookId = await publish('cron-1');
    expect(webhookId).toMatch(WEBHOOK_ID_PATTERN);
    const [row] = await sleepUntil(async () => {
      const rows = await attempts(sub);
      return rows.length > 0 && rows;
    });
    expect(row).toMatchObject({ success: true, response_status: 200, response_body: 'thanks', error: null, attempt: 1, webhook_id: webhookId });
    const req = receiver.requests[0]!;
    expect(req.method).toBe('POST');
    expect(JSON.parse(req.body)).toEqual({
      id: webhookId,
      type: 'cronJob.create',
      resource: 'cronJob',
      action: 'create',
      resourceId: 'cron-1',
      occurredAt: expect.any(String),
      data: { name: 'nightly' },
    });
    expect(verifyWebhook({ headers: req.headers as Record<string, string>, rawBody: req.body, keys: jwks(keys) })).toMatchObject({ webhookId });
    // One changed byte, or an old timestamp, and it no longer verifies.
    expect(() => verifyWebhook({ headers: req.headers as Record<string, string>, rawBody: req.body.replace('nightly', 'nightlY'), keys: jwks(keys) })).toThrow(/signature/);
    expect(() => verifyWebhook({ headers: req.headers as Record<string, string>, rawBody: req.body, keys: jwks(keys), now: new Date(Date.now() + 3_600_000) })).toThrow(/tolerance/);
  });

  it('a 500-then-200 receiver: 2 attempts with the same X-Webhook-Id, one failure and one success row', async () => {
    let calls = 0;
    await start((_req, res) => {
      res.statusCode = calls++ === 0 ? 500 : 200;
      res.end(calls === 1 ? 'oops' : 'ok');
    });
    const sub = await subscribe(receiver.origin);
    const id = await client.enqueueJob('sendWebhook', { subscriptionId: sub, action: 'update', resourceId: 'r1', data: {}, resource: 'cronJob', webhookId: 'evt_fixed' }, { backoffMs: 50 });
    // Completed, not just "a success row exists": the failure count is reset after the row is written.
    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed', { message: 'delivery job completed' });
    const rows = await attempts(sub);
    expect(rows.map((r) => [r.attempt, r.success, r.error, r.response_status])).toEqual([
      [1, false, 'http_5xx', 500],
      [2, true, null, 200],
    ]);
    expect(receiver.requests.map((r) => r.headers['x-webhook-id'])).toEqual(['evt_fixed', 'evt_fixed']);
    const sent = await database.db.selectFrom('webhook_subscription').select('consecutive_failures').where('id', '=', sub).executeTakeFirstOrThrow();
    expect(sent.consecutive_failures).toBe(0);
  });

  it('event ids are random 128-bit ids drawn when the outbox row is written; a retried delivery sends the same one', async () => {
    let calls = 0;
    await start((_req, res) => {
      res.statusCode = calls++ === 0 ? 500 : 200;
      res.end();
    });
    const sub = await subscribe(receiver.origin);
    const first = await recordWebhookEvent(database.db, { resource: 'invoice', action: 'paid', resourceId: 'inv-1', data: {} });
    const second = await recordWebhookEvent(database.db, { resource: 'invoice', action: 'paid', resourceId: 'inv-2', data: {} });
    // `evt_` + 32 hex digits (128 bits); not the counter they used to be, and not one after the other.
    for (const e of [first, second]) {
      expect(e.webhookId).toMatch(WEBHOOK_ID_PATTERN);
      expect(e.webhookId).not.toBe(`evt_${e.outboxId}`);
    }
    expect(BigInt(`0x${second.webhookId.slice(4)}`) - BigInt(`0x${first.webhookId.slice(4)}`)).not.toBe(1n);
    expect(new Set([first.webhookId, second.webhookId]).size).toBe(2);
    const stored = await database.db.selectFrom('webhook_outbox').select(['resource_id', 'webhook_id']).orderBy('id').execute();
    expect(stored).toEqual([
      { resource_id: 'inv-1', webhook_id: first.webhookId },
      { resource_id: 'inv-2', webhook_id: second.webhookId },
    ]);

    await relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o));
    const rows = await sleepUntil(async () => {
      const all = await attempts(sub);
      return all.filter((r) => r.success).length === 2 && all;
    }, { timeoutMs: 15_000, message: 'both events delivered, one after a retry' });
    // Every attempt of an event, the failed one and its retry included, carries the event's stored id.
    const idOf = { 'inv-1': first.webhookId, 'inv-2': second.webhookId } as Record<string, string>;
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.webhook_id).toBe(idOf[row.resource_id]);
    const retried = rows.find((r) => !r.success)!;
    expect(rows.filter((r) => r.resource_id === retried.resource_id).map((r) => [r.attempt, r.webhook_id])).toEqual([
      [1, idOf[retried.resource_id]],
      [2, idOf[retried.resource_id]],
    ]);
    expect(receiver.requests.map((r) => r.headers['x-webhook-id']).sort()).toEqual(rows.map((r) => r.webhook_id).sort());
  });

  it('a receiver that sleeps 6 s gives a `timeout` attempt at the 5 s budget', async () => {
    await start((_req, res) => {
      setTimeout(() => res.end('late'), 6_000).unref();
    });
    const sub = await subscribe(receiver.origin);
    await client.enqueueJob('sendWebhook', { subscriptionId: sub, action: 'create', resourceId: 'slow', data: {} }, { attempts: 1 });
    const [row] = await sleepUntil(async () => {
      const r = await attempts(sub);
      return r.length > 0 && r;
    }, { timeoutMs: 15_000 });
    expect(row).toMatchObject({ success: false, error: 'timeout', response_status: null });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(4_900);
    expect(receiver.requests).toHaveLength(1);
  }, 30_000);

  it('5 consecutive failures disable the subscription; later deliveries are recorded as skipped', async () => {
    await start((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const sub = await subscribe(receiver.origin);
    const other = await subscribe(`${receiver.origin}/other`, ['webhookSubscription.disabled']);
    for (let i = 1; i <= 5; i++) {
      const id = await client.enqueueJob('sendWebhook', { subscriptionId: sub, action: 'create', resourceId: `r${i}`, data: {} }, { attempts: 1 });
      // Failed, not just "a row exists": the breaker counts after the attempt row is written.
      await sleepUntil(async () => (await client.getJob(id))?.state === 'failed', { message: `attempt ${i} failed` });
    }
    const rows = await attempts(sub);
    expect(rows.filter((r) => r.error === 'http_5xx')).toHaveLength(5);
    // Its own `webhookSubscription.disabled` event (it subscribes to `*`) was relayed by the
    // tripping attempt before it failed, and recorded as skipped: it is disabled.
    expect(rows.filter((r) => r.error === 'skipped').map((r) => `${r.resource}.${r.action}`)).toEqual(['webhookSubscription.disabled']);
    const disabled = await database.db.selectFrom('webhook_subscription').selectAll().where('id', '=', sub).executeTakeFirstOrThrow();
    expect(disabled).toMatchObject({ enabled: false, consecutive_failures: 5 });
    expect(disabled.disabled_at).toBeInstanceOf(Date);
    expect(disabled.disabled_reason).toMatch(/5 consecutive failed attempts \(last: http_5xx\)/);
    // Other subscribers hear about it.
    await sleepUntil(async () => (await attempts(other)).length > 0, { message: 'disabled event delivered' });
    expect(JSON.parse(receiver.requests.find((r) => r.path === '/other')!.body)).toMatchObject({ type: 'webhookSubscription.disabled', resourceId: sub });

    const before = receiver.requests.length;
    await client.enqueueJob('sendWebhook', { subscriptionId: sub, action: 'create', resourceId: 'r6', data: {} }, { attempts: 1 });
    await sleepUntil(async () => (await attempts(sub)).some((r) => r.error === 'skipped' && r.resource_id === 'r6'), { message: 'skipped row' });
    expect(receiver.requests.filter((r) => r.path === '/').length).toBe(before - 1);
  });

  it('with private networks refused, loopback (literal and by hostname) is blocked_address, not retried, and nothing connects', async () => {
    await start((_req, res) => res.end('should not happen'), { allowPrivate: false });
    const literal = await subscribe(receiver.origin);
    const named = await subscribe(`http://localhost:${receiver.port}/`);
    const ids = [
      await client.enqueueJob('sendWebhook', { subscriptionId: literal, action: 'create', resourceId: 'x', data: {} }, { attempts: 3 }),
      await client.enqueueJob('sendWebhook', { subscriptionId: named, action: 'create', resourceId: 'y', data: {} }, { attempts: 3 }),
    ];
    for (const id of ids) await sleepUntil(async () => (await client.getJob(id))?.state === 'failed', { message: 'blocked job failed' });
    for (const sub of [literal, named]) expect((await attempts(sub)).map((r) => r.error)).toEqual(['blocked_address']);
    expect(receiver.connections).toBe(0);
  });

  it('during a key rotation each attempt carries two signatures; a receiver with either key verifies', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rotated = await loadSigningKeys(
      loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir, WEBHOOK_NEXT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }),
    );
    await start((_req, res) => res.end(), { signingKeys: rotated.all });
    const sub = await subscribe(receiver.origin);
    await publish('rot');
    await sleepUntil(() => receiver.requests.length > 0);
    const req = receiver.requests[0]!;
    expect(String(req.headers['x-webhook-signature']).split(' ')).toHaveLength(2);
    for (const key of rotated.all) {
      expect(verifyWebhook({ headers: req.headers as Record<string, string>, rawBody: req.body, keys: jwks([key]) }).webhookId).toMatch(/^evt_/);
    }
    void sub;
  });

  it('Standard Webhooks: the standardwebhooks library verifies a delivery with the subscription secret; X-Webhook-* and RSA unchanged; a changed byte or an old timestamp fails', async () => {
    await start((_req, res) => res.end('ok'));
    const { id: sub, secret } = await subscribeWithSecret(`${receiver.origin}/hook`);
    const webhookId = await publish('std-1');
    await sleepUntil(async () => (await attempts(sub)).length > 0);
    const req = receiver.requests[0]!;
    const headers = headersOf(req);
    // Same id and timestamp in both header families; the SPEC §8 headers are as they were.
    expect(headers['webhook-id']).toBe(webhookId);
    expect(headers['webhook-id']).toBe(headers['x-webhook-id']);
    expect(headers['webhook-timestamp']).toBe(headers['x-webhook-timestamp']);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(headers['x-webhook-signature']).toMatch(/^kid=[^,]+,alg=RS256,sig=[A-Za-z0-9+/]+=*$/);
    expect(verifyWebhook({ headers, rawBody: req.body, keys: jwks(keys) })).toMatchObject({ webhookId });

    // As a receiver would: only the library, the raw body and the headers.
    expect(new Webhook(secret).verify(req.body, headers)).toMatchObject({ id: webhookId, type: 'cronJob.create', resourceId: 'std-1' });
    expect(() => new Webhook(secret).verify(req.body.replace('std-1', 'std-2'), headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(generateSubscriptionSecret()).verify(req.body, headers)).toThrow(/No matching signature/);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10 * 60_000);
      expect(() => new Webhook(secret).verify(req.body, headers)).toThrow(/too old/);
    } finally {
      vi.useRealTimers();
    }

    // The secret (or its HMAC key) is nowhere in the attempt log nor in the stored row.
    const [row] = await attempts(sub);
    const stored = await database.db.selectFrom('webhook_subscription').selectAll().where('id', '=', sub).executeTakeFirstOrThrow();
    const key = secret.slice('whsec_'.length);
    for (const text of [JSON.stringify(row), JSON.stringify(stored)]) {
      expect(text).not.toContain(key);
    }
    expect(stored.secret_ciphertext).toMatch(/^v1:/);
  });

  it('Standard Webhooks: a subscription from before migration 0003 (no secret) is given one at its first delivery, which verifies with it', async () => {
    await start((_req, res) => res.end());
    const sub = await subscribe(receiver.origin);
    await publish('legacy');
    await sleepUntil(() => receiver.requests.length > 0);
    const secret = await ensureSubscriptionSecret(database.db, box, sub);
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret!.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(new Webhook(secret!).verify(receiver.requests[0]!.body, headersOf(receiver.requests[0]!))).toMatchObject({ resourceId: 'legacy' });
  });

  it('Standard Webhooks rotation: for 24 h two v1 signatures, each secret verifies; after 24 h only the new one', async () => {
    await start((_req, res) => res.end());
    const { id: sub, secret: oldSecret } = await subscribeWithSecret(receiver.origin);
    const rotated = await database.db.transaction().execute((trx) => rotateSubscriptionSecret(trx, box, sub));
    expect(rotated!.secret).not.toBe(oldSecret);
    expect(rotated!.previousSecretExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 23.9 * 3600_000);
    await publish('during');
    await sleepUntil(() => receiver.requests.length > 0);
    const during = receiver.requests[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [rotated!.secret, oldSecret]) {
      expect(new Webhook(secret).verify(during.body, headersOf(during))).toMatchObject({ resourceId: 'during' });
    }

    // The window is over: the rotation happened just over 24 h ago.
    await database.db.updateTable('webhook_subscription').set({ secret_rotated_at: new Date(Date.now() - 24 * 3600_000 - 60_000) }).where('id', '=', sub).execute();
    await publish('after');
    await sleepUntil(() => receiver.requests.length > 1);
    const after = receiver.requests[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(rotated!.secret).verify(after.body, headersOf(after))).toMatchObject({ resourceId: 'after' });
    expect(() => new Webhook(oldSecret).verify(after.body, headersOf(after))).toThrow(/No matching signature/);
  });

  it('the outbox: an event recorded while Redis is unreachable is delivered once it is back, exactly once', async () => {
    privateRedis = await startPrivateRedis();
    redisUrl = privateRedis.url;
    await start((_req, res) => res.end());
    const sub = await subscribe(receiver.origin);
    await privateRedis.stop();

    const { outboxId, webhookId } = await recordWebhookEvent(database.db, { resource: 'cronJob', action: 'delete', resourceId: 'gone', data: {} });
    await expect(relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o))).rejects.toThrow(/unavailable/);
    const pending = await database.db.selectFrom('webhook_outbox').select('relayed_at').where('id', '=', outboxId).executeTakeFirstOrThrow();
    expect(pending.relayed_at).toBeNull();

    privateRedis = await startPrivateRedis({ port: privateRedis.port });
    await sleepUntil(async () => (await relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o)).catch(() => ({ relayed: 0 }))).relayed === 1, {
      timeoutMs: 15_000,
      message: 'outbox relayed after Redis came back',
    });
    // A second relay (as the scheduler's periodic pass would do) adds nothing.
    expect((await relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o))).relayed).toBe(0);
    await sleepUntil(async () => (await attempts(sub)).length === 1, { timeoutMs: 15_000, message: 'delivered' });
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ id: webhookId, type: 'cronJob.delete' });
  }, 60_000);
});
