import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '@jobs/shared';

/** Who a verified token speaks for. */
export interface Principal {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** Why a token was refused; the message is safe to show the caller. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

export type TokenVerifier = (token: string) => Promise<Principal>;

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
  let key: KeyObject | JWTVerifyGetKey;
  let algorithms: string[];
  if (jwtSecret) {
    // A KeyObject, imported once: raw bytes would be re-imported by jose on every verify.
    key = createSecretKey(Buffer.from(jwtSecret, 'utf8'));
    algorithms = ['HS256'];
  } else if (jwtPublicKey) {
    key = createPublicKey(jwtPublicKey);
    algorithms = ASYMMETRIC;
  } else if (jwksUrl) {
    key = createRemoteJWKSet(new URL(jwksUrl));
    algorithms = ASYMMETRIC;
  } else {
    return undefined;
  }
  const options = { algorithms, ...(issuer ? { issuer } : {}), ...(audience ? { audience } : {}) };

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (err) {
      throw new InvalidTokenError(describe(err));
    }
    return { subject: typeof payload.sub === 'string' ? payload.sub : 'unknown', scopes: scopesOf(payload) };
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
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim "${err.claim}" is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (err instanceof errors.JOSEError) return `token is invalid (${err.code})`;
  return 'token is invalid';
}
