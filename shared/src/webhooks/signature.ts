import { createHmac, sign } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningKey } from './signing-keys.js';

/** What a webhook signature covers: the event id, the attempt's timestamp and the exact body. */
export interface WebhookSignatureInput {
  /** The event id (`X-Webhook-Id`), the same on every retry. */
  webhookId: string;
  /** Unix seconds of this attempt (`X-Webhook-Timestamp`). */
  timestamp: number;
  /** The exact raw body string that will be sent; re-serialising would change the bytes. */
  body: string;
  /** Every key to sign with: `[current]`, or `[current, next]` during a rotation. */
  keys: readonly SigningKey[];
  /**
   * The subscription's Standard Webhooks secrets (`whsec_…`, SPEC §18): `[current]`, or
   * `[current, previous]` within 24 h of a rotation. When given, the `webhook-*` headers are added.
   */
  secrets?: readonly string[];
}

/** The headers of one delivery attempt. */
export interface WebhookHeaders {
  'content-type': 'application/json';
  'x-webhook-id': string;
  'x-webhook-timestamp': string;
  'x-webhook-signature': string;
  'user-agent': 'jobs-webhooks/1';
  /**
   * Also, when the subscription's secrets are given, Standard Webhooks v1 (SPEC §18):
   * `webhook-id` and `webhook-timestamp` (the same values as the `x-webhook-*` pair) and
   * `webhook-signature` (`v1,<base64 HMAC-SHA256>` per secret, space-separated).
   */
  [name: string]: string;
}

/**
 * The bytes that are signed: `{id}.{timestamp}.{raw body}`. Shared with the verifier so both
 * sides can never disagree on the format.
 *
 * @example
 * signedPayload('evt_1', 1700000000, '{}').toString(); // 'evt_1.1700000000.{}'
 */
export function signedPayload(webhookId: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  const prefix = Buffer.from(`${webhookId}.${timestamp}.`, 'utf8');
  return Buffer.concat([prefix, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/**
 * `crypto.sign` with a callback: the RSA work runs on libuv's thread pool, not the event loop.
 * Signing is half of a delivery's CPU (bench/webhooks); done inline it stalled every other job
 * of the worker process for the length of a signature (0.2–1 ms per key).
 */
const signOffThread = promisify(sign);

/**
 * The `X-Webhook-Signature` value: one `kid=<kid>,alg=RS256,sig=<base64>` entry per key,
 * space-separated (RSASSA-PKCS1-v1_5 with SHA-256).
 *
 * @example
 * await signWebhook({ webhookId: event.id, timestamp: Math.floor(Date.now() / 1000), body, keys: keys.all });
 * // 'kid=NzbL…,alg=RS256,sig=kQ3v…== kid=Xp0a…,alg=RS256,sig=Hh7c…=='
 */
export async function signWebhook({ webhookId, timestamp, body, keys }: WebhookSignatureInput): Promise<string> {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(`webhook timestamp must be whole unix seconds, got ${timestamp}`);
  }
  if (keys.length === 0) throw new TypeError('signWebhook needs at least one key');
  const payload = signedPayload(webhookId, timestamp, body);
  const signatures = await Promise.all(keys.map((key) => signOffThread('sha256', payload, key.privateKey)));
  return keys.map((key, i) => `kid=${key.kid},alg=RS256,sig=${signatures[i]!.toString('base64')}`).join(' ');
}

/**
 * All headers of a delivery attempt, signatures included: `x-webhook-*` with the RSA keys (SPEC §8)
 * and, given `secrets`, `webhook-*` with their HMACs (SPEC §18). Header names are lower-case, as HTTP/1.1
 * treats them case-insensitively and undici sends them as given.
 *
 * @example
 * const timestamp = Math.floor(Date.now() / 1000);
 * await client.post(url, body, await webhookHeaders({ webhookId: event.id, timestamp, body, keys: keys.all }));
 */
export async function webhookHeaders(input: WebhookSignatureInput): Promise<WebhookHeaders> {
  const headers: WebhookHeaders = {
    'content-type': 'application/json',
    'x-webhook-id': input.webhookId,
    'x-webhook-timestamp': String(input.timestamp),
    'x-webhook-signature': await signWebhook(input),
    'user-agent': 'jobs-webhooks/1',
  };
  if (input.secrets && input.secrets.length > 0) {
    // HMAC costs microseconds (bench/webhooks): computed inline, unlike the RSA signature.
    headers['webhook-id'] = input.webhookId;
    headers['webhook-timestamp'] = String(input.timestamp);
    headers['webhook-signature'] = standardSignature({ webhookId: input.webhookId, timestamp: input.timestamp, body: input.body, secrets: input.secrets });
  }
  return headers;
}

/** Standard Webhooks' secret prefix: `whsec_` + base64 of the HMAC key. */
export const SECRET_PREFIX = 'whsec_';

/**
 * The `webhook-signature` value (Standard Webhooks v1): `v1,<base64 HMAC-SHA256>` over
 * `{id}.{timestamp}.{body}` per secret, keyed with the base64-decoded part after `whsec_`;
 * space-separated, in the order given (newest secret first).
 *
 * @example
 * standardSignature({ webhookId: 'evt_1', timestamp: 1700000000, body: '{}', secrets: [secret] }); // 'v1,K5oZ…='
 */
export function standardSignature(input: { webhookId: string; timestamp: number; body: string; secrets: readonly string[] }): string {
  if (input.secrets.length === 0) throw new TypeError('standardSignature needs at least one secret');
  const payload = signedPayload(input.webhookId, input.timestamp, input.body);
  return input.secrets.map((secret) => `v1,${createHmac('sha256', hmacKey(secret)).update(payload).digest('base64')}`).join(' ');
}

function hmacKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError('a subscription secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}
