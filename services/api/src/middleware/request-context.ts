import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '@jobs/shared';
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
    c.set('log', log.child({ requestId }));
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
