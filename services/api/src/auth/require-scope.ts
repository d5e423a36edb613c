import type { MiddlewareHandler } from 'hono';
import { problem } from '../problem.js';
import type { AppEnv } from '../app-env.js';
import { InvalidTokenError, type TokenVerifier } from './token-verifier.js';

export const Scope = { enqueue: 'jobs:enqueue', admin: 'jobs:admin' } as const;

/**
 * Authenticates the bearer token and requires one of `scopes` (`jobs:admin` always passes).
 * Without a verifier (local, no auth configured) every request passes as `anonymous`.
 */
export function requireScope(verify: TokenVerifier | undefined, ...scopes: string[]): MiddlewareHandler<AppEnv> {
  const accepted = new Set([Scope.admin, ...scopes]);
  return async (c, next) => {
    if (!verify) {
      c.set('actor', 'anonymous');
      c.set('actorNamed', true);
      c.set('scopes', new Set([Scope.admin]));
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      c.header('WWW-Authenticate', 'Bearer realm="jobs"');
      return problem(c, 401, { detail: header ? 'Authorization must be "Bearer <token>"' : 'a bearer token is required' });
    }
    try {
      const principal = await verify(match[1]!);
      c.set('actor', principal.subject);
      c.set('actorNamed', principal.named);
      c.set('scopes', principal.scopes);
      c.set('log', c.get('log').child({ actor: principal.subject }));
      if (![...accepted].some((s) => principal.scopes.has(s))) {
        c.header('WWW-Authenticate', `Bearer realm="jobs", error="insufficient_scope", scope="${[...accepted].join(' ')}"`);
        return problem(c, 403, { detail: `this needs the scope ${[...accepted].join(' or ')}` });
      }
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) throw err;
      c.header('WWW-Authenticate', `Bearer realm="jobs", error="invalid_token", error_description="${err.message}"`);
      return problem(c, 401, { detail: err.message });
    }
    return next();
  };
}

/**
 * The one authorization rule of the admin API (SPEC §7): `jobs:enqueue` may enqueue and read
 * jobs (`POST /api/admin/job`, `POST /api/admin/job/batch`, `GET /api/admin/job/:id`); everything else needs `jobs:admin`.
 */
export function authorizeAdminApi(verify: TokenVerifier | undefined): MiddlewareHandler<AppEnv> {
  const enqueueOrAdmin = requireScope(verify, Scope.enqueue);
  const adminOnly = requireScope(verify);
  return (c, next) => {
    const { method, path } = c.req;
    const enqueueRoute = (method === 'POST' && /^\/api\/admin\/job(\/batch)?\/?$/.test(path)) || (method === 'GET' && /^\/api\/admin\/job\/[^/]+\/?$/.test(path));
    return (enqueueRoute ? enqueueOrAdmin : adminOnly)(c, next);
  };
}
