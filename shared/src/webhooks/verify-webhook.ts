import { createHash, createPublicKey, KeyObject, verify, type JsonWebKey } from 'node:crypto';
import { signedPayload } from './signature.js';

/** Why a webhook was rejected; stable codes a receiver can log or count. */
export type WebhookVerificationReason =
  | 'missing_header'
  | 'bad_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'no_matching_key'
  | 'bad_signature'
  | 'malformed_signature';

/** A webhook failed verification; `reason` says why. Answer it with 400/401 and do not process it. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  readonly code = 'webhook_verification_failed';
  constructor(
    readonly reason: WebhookVerificationReason,
    detail: string,
  ) {
    super(`webhook rejected (${reason}): ${detail}`);
  }
}

/** A public key as a JWK (e.g. from our `/.well-known/jwks.json`). `kid` defaults to its RFC 7638 thumbprint. */
export type WebhookPublicJwk = JsonWebKey & { kid?: string; alg?: string; use?: string };

export interface VerifyWebhookOptions {
  /** The request headers: a plain object (node's `req.headers`) or a fetch `Headers`; case-insensitive. */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Buffer | Uint8Array;
  /** A JWK Set (`{ keys }`), or a list of JWKs / `KeyObject`s (whose kid is their thumbprint). */
  keys: { keys: readonly WebhookPublicJwk[] } | readonly (WebhookPublicJwk | KeyObject)[];
  /** Max age (and max clock skew into the future) of `X-Webhook-Timestamp`, in seconds. */
  toleranceSec?: number;
  /** The receiver's clock; defaults to now. */
  now?: Date;
}

/**
 * Verifies a delivery's `X-Webhook-Signature` against the sender's public keys and checks its
 * timestamp. Passes if any signature entry whose kid is among `keys` verifies (during a key
 * rotation there are several). Throws {@link WebhookVerificationError} otherwise.
 *
 * @example
 * const jwks = await (await fetch('https://jobs.example.com/.well-known/jwks.json')).json();
 * app.post('/hooks', express.raw({ type: '*\/*' }), (req, res) => {
 *   const { webhookId } = verifyWebhook({ headers: req.headers, rawBody: req.body, keys: jwks });
 *   if (alreadySeen(webhookId)) return res.sendStatus(200); // retries reuse the id
 *   …
 * });
 */
export function verifyWebhook(options: VerifyWebhookOptions): { webhookId: string; timestamp: number } {
  const { headers, rawBody, keys, toleranceSec = 300, now = new Date() } = options;
  const webhookId = header(headers, 'x-webhook-id');
  const timestampText = header(headers, 'x-webhook-timestamp');
  const signature = header(headers, 'x-webhook-signature');
  if (!webhookId) throw new WebhookVerificationError('missing_header', 'X-Webhook-Id is missing');
  if (!timestampText) throw new WebhookVerificationError('missing_header', 'X-Webhook-Timestamp is missing');
  if (!signature) throw new WebhookVerificationError('missing_header', 'X-Webhook-Signature is missing');

  // Digits only: the signed bytes use the header text, so '1e9' or ' 17…' must not sneak through.
  if (!/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError('bad_timestamp', 'X-Webhook-Timestamp must be unix seconds');
  }
  const timestamp = Number(timestampText);
  const skew = Math.floor(now.getTime() / 1000) - timestamp;
  if (Math.abs(skew) > toleranceSec) {
    // Old: a captured request being replayed. Future: a clock far off, or a pre-made replay.
    throw new WebhookVerificationError('timestamp_out_of_tolerance', `timestamp is ${skew}s from now (tolerance ${toleranceSec}s)`);
  }

  const entries = parseSignatureHeader(signature);
  if (entries.length === 0) {
    throw new WebhookVerificationError('malformed_signature', 'no kid=…,alg=RS256,sig=… entry in X-Webhook-Signature');
  }
  const byKid = publicKeysByKid(keys);
  const candidates = entries.filter((entry) => byKid.has(entry.kid));
  if (candidates.length === 0) {
    throw new WebhookVerificationError('no_matching_key', `none of the kids ${entries.map((e) => e.kid).join(', ')} is a known key`);
  }
  const payload = signedPayload(webhookId, timestampText, typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody));
  // RSA verification compares nothing secret, so trying entries one by one leaks nothing.
  if (candidates.some((entry) => verify('sha256', payload, byKid.get(entry.kid)!, entry.sig))) {
    return { webhookId, timestamp };
  }
  throw new WebhookVerificationError('bad_signature', 'no signature matches the body with a known key');
}

interface SignatureEntry {
  kid: string;
  sig: Buffer;
}

/**
 * Entries are space-separated `kid=…,alg=…,sig=…`. A proxy that merged repeated headers with
 * ', ' still parses, since empty pieces are skipped. Entries of other algorithms are ignored so a
 * future algorithm can be added alongside RS256 without breaking today's receivers.
 */
function parseSignatureHeader(value: string): SignatureEntry[] {
  const entries: SignatureEntry[] = [];
  for (const token of value.split(/\s+/)) {
    const fields = new Map<string, string>();
    for (const piece of token.split(',')) {
      const eq = piece.indexOf('=');
      if (eq > 0) fields.set(piece.slice(0, eq), piece.slice(eq + 1)); // base64 padding keeps its '='
    }
    const kid = fields.get('kid');
    const sig = fields.get('sig');
    if (!kid || !sig || fields.get('alg') !== 'RS256') continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sig)) continue;
    entries.push({ kid, sig: Buffer.from(sig, 'base64') });
  }
  return entries;
}

function header(headers: VerifyWebhookOptions['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

// Receivers verify every request against the same JWKS object: convert each JWK only once.
const keyCache = new WeakMap<object, { kid: string; key: KeyObject } | null>();

function publicKeysByKid(keys: VerifyWebhookOptions['keys']): Map<string, KeyObject> {
  // Not `'keys' in keys`: every array has a `keys` method.
  const list = Array.isArray(keys) ? (keys as readonly (WebhookPublicJwk | KeyObject)[]) : (keys as { keys: readonly WebhookPublicJwk[] }).keys;
  const byKid = new Map<string, KeyObject>();
  for (const item of list) {
    let entry = keyCache.get(item);
    if (entry === undefined) {
      entry = toPublicKey(item);
      keyCache.set(item, entry);
    }
    if (entry) byKid.set(entry.kid, entry.key);
  }
  return byKid;
}

/** Only RSA signing keys can verify RS256; anything else in a shared JWKS is skipped, not an error. */
function toPublicKey(item: WebhookPublicJwk | KeyObject): { kid: string; key: KeyObject } | null {
  const isKeyObject = item instanceof KeyObject;
  const jwk: WebhookPublicJwk = isKeyObject ? createPublicKey(item).export({ format: 'jwk' }) : item;
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) return null;
  if (jwk.use !== undefined && jwk.use !== 'sig') return null;
  if (jwk.alg !== undefined && jwk.alg !== 'RS256') return null;
  const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  return { kid: (!isKeyObject && jwk.kid) || rsaThumbprint(jwk.n, jwk.e), key };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace. */
function rsaThumbprint(n: string, e: string): string {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}
