import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationReason } from '../../src/index.js';
import { jwks, loadSigningKeys, signWebhook, webhookHeaders, type SigningKeys } from '../../src/webhooks/index.js';
import { loadConfig } from '../../src/config/index.js';

const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

let keys: SigningKeys; // current + next, loaded through the real config path
const body = JSON.stringify({ id: 'evt_1', type: 'cronJob.create', data: { name: 'nightly', note: 'é' } });
const now = new Date('2026-01-01T00:00:00Z');
const timestamp = Math.floor(now.getTime() / 1000);

beforeAll(async () => {
  const config = loadConfig({ APP_ENV: 'test', WEBHOOK_SIGNING_KEY: pem(), WEBHOOK_NEXT_SIGNING_KEY: pem() });
  keys = await loadSigningKeys(config);
});

function rejection(fn: () => unknown): WebhookVerificationReason {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error('expected verifyWebhook to throw');
}

describe('signWebhook / verifyWebhook', () => {
  it('round-trips against the published JWKS, with node-style and fetch-style headers', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: [keys.current] });
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-webhook-id': 'evt_1', 'user-agent': 'jobs-webhooks/1' });
    expect(headers['x-webhook-signature']).toMatch(/^kid=[\w-]+,alg=RS256,sig=[A-Za-z0-9+/]+=*$/);
    const published = JSON.parse(JSON.stringify(jwks(keys))) as ReturnType<typeof jwks>;

    expect(verifyWebhook({ headers, rawBody: body, keys: published, now })).toEqual({ webhookId: 'evt_1', timestamp });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook({ headers: upper, rawBody: Buffer.from(body), keys: published, now }).webhookId).toBe('evt_1');
    expect(verifyWebhook({ headers: new Headers(headers), rawBody: new TextEncoder().encode(body), keys: published.keys, now }).timestamp).toBe(timestamp);
    // A KeyObject works too (its kid is its thumbprint).
    expect(verifyWebhook({ headers, rawBody: body, keys: [keys.current.privateKey], now }).webhookId).toBe('evt_1');
  });

  it('rejects a body with one changed byte', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: keys.all });
    const tampered = body.replace('nightly', 'nightlz');
    expect(rejection(() => verifyWebhook({ headers, rawBody: tampered, keys: jwks(keys), now }))).toBe('bad_signature');
  });

  it('rejects a swapped id or timestamp, since both are signed', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: keys.all });
    const otherId = { ...headers, 'x-webhook-id': 'evt_2' };
    const otherTs = { ...headers, 'x-webhook-timestamp': String(timestamp - 1) };
    expect(rejection(() => verifyWebhook({ headers: otherId, rawBody: body, keys: jwks(keys), now }))).toBe('bad_signature');
    expect(rejection(() => verifyWebhook({ headers: otherTs, rawBody: body, keys: jwks(keys), now }))).toBe('bad_signature');
  });

  it('rejects timestamps outside the tolerance, old or future', async () => {
    const old = await webhookHeaders({ webhookId: 'evt_1', timestamp: timestamp - 301, body, keys: keys.all });
    const future = await webhookHeaders({ webhookId: 'evt_1', timestamp: timestamp + 301, body, keys: keys.all });
    expect(rejection(() => verifyWebhook({ headers: old, rawBody: body, keys: jwks(keys), now }))).toBe('timestamp_out_of_tolerance');
    expect(rejection(() => verifyWebhook({ headers: future, rawBody: body, keys: jwks(keys), now }))).toBe('timestamp_out_of_tolerance');
    expect(verifyWebhook({ headers: old, rawBody: body, keys: jwks(keys), now, toleranceSec: 600 }).webhookId).toBe('evt_1');
  });

  it('rejects a kid the receiver does not know', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: [keys.next!] });
    expect(rejection(() => verifyWebhook({ headers, rawBody: body, keys: jwks([keys.current]), now }))).toBe('no_matching_key');
  });

  it('rejects missing, malformed and non-numeric headers with their own reasons', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: keys.all });
    const verifyWith = (h: Record<string, string>) => () => verifyWebhook({ headers: h, rawBody: body, keys: jwks(keys), now });
    const { 'x-webhook-signature': _sig, ...unsigned } = headers;
    expect(rejection(verifyWith(unsigned))).toBe('missing_header');
    expect(rejection(verifyWith({ ...headers, 'x-webhook-timestamp': '1e9' }))).toBe('bad_timestamp');
    expect(rejection(verifyWith({ ...headers, 'x-webhook-signature': 'garbage' }))).toBe('malformed_signature');
    expect(rejection(verifyWith({ ...headers, 'x-webhook-signature': `kid=${keys.current.kid},alg=RS256,sig=%%%` }))).toBe('malformed_signature');
  });

  it('during a rotation signs with both keys, and a receiver holding either one verifies', async () => {
    const headers = await webhookHeaders({ webhookId: 'evt_1', timestamp, body, keys: keys.all });
    const entries = headers['x-webhook-signature'].split(' ');
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => e.split(',')[0])).toEqual([`kid=${keys.current.kid}`, `kid=${keys.next!.kid}`]);
    expect(verifyWebhook({ headers, rawBody: body, keys: jwks([keys.current]), now }).webhookId).toBe('evt_1');
    expect(verifyWebhook({ headers, rawBody: body, keys: jwks([keys.next!]), now }).webhookId).toBe('evt_1');
    // A proxy that merges the entries with ', ' does not break verification.
    const merged = { ...headers, 'x-webhook-signature': entries.join(', ') };
    expect(verifyWebhook({ headers: merged, rawBody: body, keys: jwks([keys.next!]), now }).webhookId).toBe('evt_1');
  });

  it('uses the RFC 7638 thumbprint as kid and publishes public members only', async () => {
    for (const key of keys.all) {
      const { kty, n, e } = key.publicJwk;
      expect(key.kid).toBe(await calculateJwkThumbprint({ kty: kty!, n: n!, e: e! }, 'sha256'));
    }
    for (const jwk of jwks(keys).keys) {
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    }
  });

  it('signs off the event loop: the loop turns while a batch of signatures is being made', async () => {
    // Signed inline, all 32 would be done before the first setImmediate could run.
    const all = Promise.all(Array.from({ length: 32 }, (_, i) => signWebhook({ webhookId: `evt_${i}`, timestamp, body, keys: [keys.current] })));
    const turned = new Promise<string>((resolve) => setImmediate(resolve, 'loop turned first'));
    expect(await Promise.race([all.then(() => 'all signed first'), turned])).toBe('loop turned first');
    const signatures = await all;
    expect(verifyWebhook({ headers: { 'x-webhook-id': 'evt_31', 'x-webhook-timestamp': String(timestamp), 'x-webhook-signature': signatures[31]! }, rawBody: body, keys: jwks(keys), now }).webhookId).toBe('evt_31');
  });

  it('refuses a timestamp that is not whole seconds', async () => {
    await expect(signWebhook({ webhookId: 'evt_1', timestamp: Date.now() / 1000, body, keys: keys.all })).rejects.toThrow(TypeError);
  });
});
