import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { checkReadiness, readinessBody, type Config, type Logger, type ReadinessCheck } from '@jobs/shared';
import { problem } from './problem.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  /** Dependencies `/readyz` must reach (Redis, database), by name. */
  checks: Record<string, ReadinessCheck>;
  /** Per-check bound for `/readyz` (default 2 s). */
  readinessTimeoutMs?: number;
}

/**
 * The API's Hono app: health endpoints plus the one 404 and error handler every route shares.
 * Route groups are added onto it (`app.route(...)`).
 *
 * @example
 * const app = createApp({ config, log, checks: { redis: () => redis.ping() } });
 * const res = await app.request('/healthz');
 */
export function createApp(deps: AppDeps): Hono {
  const { log, checks } = deps;
  // Not strict: `/bullBoard/` and `/healthz/` must reach the same routes as without the slash.
  const app = new Hono({ strict: false });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const report = await checkReadiness(checks, deps.readinessTimeoutMs);
    if (!report.ready) log.warn({ down: report.down, errors: report.errors }, 'not ready');
    return c.json(readinessBody(report), report.ready ? 200 : 503);
  });

  app.notFound((c) => problem(c, 404, { detail: `no route for ${c.req.method} ${c.req.path}` }));

  app.onError((err, c) => {
    // Client errors raised on purpose (bad JSON, auth) carry a message meant for the caller.
    if (err instanceof HTTPException && err.status < 500) {
      if (err.res) return err.getResponse(); // keeps headers such as WWW-Authenticate
      return problem(c, err.status, { detail: err.message || undefined });
    }
    // Anything else is a bug or an outage: the details go to the log, never to the client.
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
    return problem(c, 500, { detail: 'an unexpected error occurred; it has been logged' });
  });

  return app;
}
