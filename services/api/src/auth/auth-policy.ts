import type { Config } from '@jobs/shared/config';
import type { Logger } from '@jobs/shared/logger';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.js';

/** Auth is off outside local: the API must not start. `message` is one printable line. */
export class AuthNotConfiguredError extends Error {
  override name = 'AuthNotConfiguredError';
  constructor(appEnv: string) {
    super(`refusing to start: APP_ENV=${appEnv} needs admin API auth; set AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL`);
  }
}

/** Whether a token source is set: `AUTH_JWT_SECRET`, `AUTH_JWT_PUBLIC_KEY` or `AUTH_JWKS_URL`. */
export function authConfigured(config: Pick<Config, 'auth'>): boolean {
  const { jwtSecret, jwtPublicKey, jwksUrl } = config.auth;
  return Boolean(jwtSecret || jwtPublicKey || jwksUrl);
}

/**
 * The verifier for the admin API, per SPEC §7: configured → verify tokens; local without
 * config → open, with a warning; anywhere else without config → {@link AuthNotConfiguredError}.
 */
export function resolveAuth(config: Config, log: Logger): TokenVerifier | undefined {
  const verifier = createTokenVerifier(config);
  if (verifier) return verifier;
  if (!config.isLocal) throw new AuthNotConfiguredError(config.appEnv);
  log.warn('admin API auth is not configured: the API is open to anyone who can reach it (APP_ENV=local only)');
  return undefined;
}
