import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.js';

/**
 * CORS for the API, opt-in (`CORS_ORIGINS`): a browser page on one of those exact origins may call
 * it with a bearer token (the `@jobs/client` in a web app). With none configured nothing is
 * added, so a preflight from any origin gets no `Access-Control-Allow-*` and the browser blocks
 * the call. No credentials mode: the API authenticates by `Authorization` header, never by cookie.
 */
export function apiCors(origins: readonly string[]): MiddlewareHandler<AppEnv> | undefined {
  if (!origins.length) return undefined;
  const allowed = new Set(origins);
  return cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    // traceparent/tracestate: a traced web app's calls join its trace (SPEC §15).
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'traceparent', 'tracestate'],
    // What the client reads from an answer: its request id for errors, and when to retry.
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
