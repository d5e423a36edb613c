import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '@jobs/shared/config';
import { createVerifiedTokenCache } from './verified-token-cache.js';

/** Who a verified token speaks for. */
export interface Principal {
  /** The token's `sub`, or `unknown` when it has none (see `named`). */
  subject: string;
  /** Whether the token names its caller (`sub`): per-caller state such as Idempotency-Keys needs one. */
  named: boolean;
  scopes: ReadonlySet<string>;
}

/** Why a token was refused; the message is safe to show the caller. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** How many verified tokens are remembered, and for how long at most (see verified-token-cache.ts). */
const CACHED_TOKENS = 1_000;
export const VERIFIED_TOKEN_CACHE_MS = 60_000;

/**
 * jose's remote JWKS cache, spelled out (they are jose 6's defaults) so the README's bound holds
 * even if a jose release changes them: the key set is fetched again on the first verification
 * after `cacheMaxAge`, so a key removed from the JWKS stops verifying new tokens within 10 min,
 * and tokens already verified within 10 min + {@link VERIFIED_TOKEN_CACHE_MS}. A token naming an
 * unknown `kid` refetches at most once per `cooldownDuration` (a new key works within 30 s).
 */
export const JWKS_CACHE = { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 } as const;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Builds the verifier the config asks for (SPEC §7): an HS256 secret, a PEM public key, or a
 * JWKS URL, with issuer and audience checked when configured. Undefined when none is set.
 *
 * @example
 * const verify = createTokenVerifier(config);
 * const { subject, scopes } = await verify!(token);
 */
export function createTokenVerifier(config: Pick<Config, 'auth'>): TokenVerifier | undefined {
  const { jwtSecret, jwtPublicKey, jwksUrl, issuer, audience } = config.auth;
  let key: Promise<webcrypto.CryptoKey> | KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (jwtSecret) {
    // A CryptoKey, imported once: jose turns raw bytes, and a secret KeyObject too, back into
    // bytes and imports them again on every verify.
    key = webcrypto.subtle.importKey('raw', Buffer.from(jwtSecret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    algorithms = ['HS256'];
  } else if (jwtPublicKey) {
    key = createPublicKey(jwtPublicKey);
    algorithms = ASYMMETRIC;
  } else if (jwksUrl) {
    key = createRemoteJWKSet(new URL(jwksUrl), JWKS_CACHE);
    algorithms = ASYMMETRIC;
  } else {
    return undefined;
  }
  // `exp` is required: a token without it would be valid forever, and could never leave the cache by expiry.
  const options = { algorithms, requiredClaims: ['exp'], ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };

  const verified = createVerifiedTokenCache<Principal>({ maxEntries: CACHED_TOKENS, maxAgeMs: VERIFIED_TOKEN_CACHE_MS });

  return async (token) => {
    const known = verified.get(token);
    if (known) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, await key, options));
    } catch (err) {
      throw new InvalidTokenError(describe(err));
    }
    const named = typeof payload.sub === 'string' && payload.sub !== '';
    const principal = { subject: named ? (payload.sub as string) : 'unknown', named, scopes: scopesOf(payload) };
    verified.set(token, principal, typeof payload.exp === 'number' ? payload.exp * 1000 : undefined);
    return principal;
  };
}

/** OAuth 2 `scope` (space-separated) or an `scp` array, as issuers differ. */
function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === 'string') payload.scope.split(' ').filter(Boolean).forEach((s) => scopes.add(s));
  if (Array.isArray(payload.scp)) payload.scp.filter((s): s is string => typeof s === 'string').forEach((s) => scopes.add(s));
  return scopes;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed && err.reason === 'missing') {
    return err.claim === 'exp' ? 'token has no exp claim; exp is required (tokens must expire)' : `token has no ${err.claim} claim; ${err.claim} is required`;
  }
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim "${err.claim}" is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (err instanceof errors.JOSEError) return `token is invalid (${err.code})`;
  return 'token is invalid';
}
