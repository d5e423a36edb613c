import { checkReadiness, readinessBody } from '@jobs/shared';
import type { App, AppDeps } from '../app-env.js';

/** `/healthz` (process up), `/readyz` (Redis and DB answer; 503 naming what is down), `/metrics`. */
export function registerHealthRoutes(app: App, deps: AppDeps): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const report = await checkReadiness(deps.checks, deps.readinessTimeoutMs);
    if (!report.ready) deps.log.warn({ down: report.down, errors: report.errors }, 'not ready');
    return c.json(readinessBody(report), report.ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => c.body(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }));
}
