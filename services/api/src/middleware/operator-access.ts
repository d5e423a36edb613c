import type { MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import type { Config } from '@jobs/shared/config';
import { sameOriginOnly } from './same-origin.js';

/** Which of the three access rules applies to the operator pages, BullBoard and the console (SPEC §9, §17). */
export type OperatorAccess = { mode: 'open' } | { mode: 'basic'; username: string; password: string } | { mode: 'disabled' };

/**
 * One realm for every operator page: a browser that signed in to BullBoard reuses the same
 * credentials for the console without asking again.
 */
export const OPERATOR_REALM = 'BullBoard';

/**
 * Seed rules: credentials set (any environment) → HTTP basic auth; local without credentials →
 * open; non-local without credentials → not mounted at all.
 *
 * @example
 * operatorAccess({ isLocal: false, bullBoard: undefined }); // { mode: 'disabled' }
 */
export function operatorAccess(config: Pick<Config, 'isLocal' | 'bullBoard'>): OperatorAccess {
  if (config.bullBoard) return { mode: 'basic', ...config.bullBoard };
  return config.isLocal ? { mode: 'open' } : { mode: 'disabled' };
}

/**
 * The guards every operator page sits behind, in order: the CSRF check ({@link sameOriginOnly},
 * in every mode: browsers send basic-auth credentials on their own, so a foreign page's form post
 * would otherwise act as the signed-in operator), then basic auth when credentials are set (Hono
 * compares both fields in constant time). Empty for a disabled page (it is not mounted at all).
 *
 * @example
 * for (const guard of operatorGuards(access)) app.use('/console/*', guard);
 */
export function operatorGuards(access: OperatorAccess): MiddlewareHandler[] {
  if (access.mode === 'disabled') return [];
  const guards = [sameOriginOnly()];
  if (access.mode === 'basic') guards.push(basicAuth({ username: access.username, password: access.password, realm: OPERATOR_REALM }));
  return guards;
}
