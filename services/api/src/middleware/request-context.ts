import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '@jobs/shared/logger';
import type { AppEnv } from '../app-env.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids (`X-Request-Id` taken from the caller when sane, else generated; always echoed),
 * a per-request child logger, and one access-log line per request with the actor.
 */
export function requestContext(log: Logger): MiddlewareHandler<AppEnv> {
  // The access line has fixed keys, none of them secret (redaction matches keys, not values),
  // so it skips the redaction walk: that walk was a tenth of an enqueue's CPU (bench/profile.ts).
  const accessLog = log.child({}, { redact: [] });
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('actor', 'anonymous');
    c.set('log', lazyChild(log, { requestId }));
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    const status = c.res.status;
    const line = { method: c.req.method, path: c.req.path, status, durationMs: Math.round(performance.now() - started), actor: c.get('actor'), requestId };
    // Probes hit these every few seconds; they would drown the useful lines.
    if (c.req.path === '/healthz' || c.req.path === '/readyz' || c.req.path === '/metrics') return;
    // A 503 is an outage already reported by /readyz and the dependency warning, not a bug.
    if (status >= 500 && status !== 503) accessLog.error(line, 'request');
    else if (status >= 400) accessLog.warn(line, 'request');
    else accessLog.info(line, 'request');
  };
}

/**
 * `parent.child(bindings)`, made only when something is logged through it. Most requests log
 * nothing but their access line (which has its own logger), and a pino child per request (its
 * bindings serialised up front) was a measurable part of an enqueue's CPU (bench/profile.ts).
 * `child()` of a logger not made yet stays lazy, so the auth middleware's `child({ actor })`
 * costs nothing either.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let real: Logger | undefined;
  const made = () => (real ??= parent.child(bindings));
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (prop === 'child' && !real) {
        return (more: Record<string, unknown>, options?: Parameters<Logger['child']>[1]) => (options ? made().child(more, options) : lazyChild(parent, { ...bindings, ...more }));
      }
      const logger = made();
      const value: unknown = Reflect.get(logger, prop, logger);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(logger) : value;
    },
    set: (_target, prop, value) => Reflect.set(made(), prop, value),
    has: (_target, prop) => Reflect.has(made(), prop),
  });
}
