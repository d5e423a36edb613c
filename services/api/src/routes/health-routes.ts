import { checkReadiness, readinessBody } from '@jobs/shared/process';
import { mergedMetricsText } from '@jobs/shared/metrics';
import type { App, AppDeps } from '../app-env.js';

/** `/healthz` (process up), `/readyz` (Redis and DB answer; 503 naming what is down), `/metrics`. */
export function registerHealthRoutes(app: App, deps: AppDeps): void {
  // Plain routes (no validation to run), documented in the OpenAPI document all the same.
  const doc = (path: string, operationId: string, summary: string, responses: Record<number, string>) =>
    app.openAPIRegistry.registerPath({
      method: 'get',
      path,
      operationId,
      tags: ['operations'],
      security: [], // public: probes and Prometheus scrape without a token
      summary,
      responses: Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
    });
  doc('/healthz', 'getHealth', 'Liveness: the process is up', { 200: 'Up' });
  doc('/readyz', 'getReadiness', 'Readiness: Redis and the database answer', { 200: 'Ready', 503: 'Not ready; `down` names what is unreachable' });
  doc('/metrics', 'getMetrics', 'Prometheus metrics (text exposition format)', { 200: 'Metrics' });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const report = await checkReadiness(deps.checks, deps.readinessTimeoutMs);
    if (!report.ready) deps.log.warn({ down: report.down, errors: report.errors }, 'not ready');
    return c.json(readinessBody(report), report.ready ? 200 : 503);
  });

  const extra = deps.extraRegistries ?? [];
  app.get('/metrics', async (c) => {
    const text = extra.length ? await mergedMetricsText([deps.metrics, ...extra]) : await deps.metrics.metrics();
    return c.body(text, 200, { 'content-type': deps.metrics.contentType });
  });
}
