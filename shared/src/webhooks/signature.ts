import { sign } from 'node:crypto';
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
}

/** The headers of one delivery attempt. */
export interface WebhookHeaders {
  'content-type': 'application/json';
  'x-webhook-id': string;
  'x-webhook-timestamp': string;
  'x-webhook-signature': string;
  'user-agent': 'jobs-webhooks/1';
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
 * All headers of a delivery attempt, signature included. Header names are lower-case, as HTTP/1.1
 * treats them case-insensitively and undici sends them as given.
 *
 * @example
 * const timestamp = Math.floor(Date.now() / 1000);
 * await client.post(url, body, await webhookHeaders({ webhookId: event.id, timestamp, body, keys: keys.all }));
 */
export async function webhookHeaders(input: WebhookSignatureInput): Promise<WebhookHeaders> {
  return {
    'content-type': 'application/json',
    'x-webhook-id': input.webhookId,
    'x-webhook-timestamp': String(input.timestamp),
    'x-webhook-signature': await signWebhook(input),
    'user-agent': 'jobs-webhooks/1',
  };
}
