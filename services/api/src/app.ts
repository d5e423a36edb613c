import { OpenAPIHono } from '@hono/zod-openapi';
import { registerQueueDepth } from '@jobs/shared/metrics';
import { authorizeAdminApi } from './auth/require-scope.js';
import { mountBullBoard } from './bull-board/mount-bull-board.js';
import { mountConsole } from './console/mount-console.js';
import type { App, AppDeps, AppEnv } from './app-env.js';
import { handleError } from './error-handler.js';
import { apiCors } from './middleware/cors.js';
import { jsonBody } from './middleware/json-body.js';
import { requestContext } from './middleware/request-context.js';
import { tracing } from './middleware/tracing.js';
import { markUnmatched, requestMetrics } from './middleware/request-metrics.js';
import { problem } from './problem.js';
import { registerCronJobRoutes } from './routes/cron-job-routes.js';
import { registerHandlerRoutes } from './routes/handler-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerJobListRoutes } from './routes/job-list-routes.js';
import { registerJobBatchRoutes } from './routes/job-batch-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerJwksRoutes } from './routes/jwks-routes.js';
import { registerOpenApiRoutes } from './routes/openapi-routes.js';
import { registerQueueRoutes } from './routes/queue-routes.js';
import { registerWebhookEventRoutes } from './routes/webhook-event-routes.js';
import { registerWebhookSubscriptionRoutes } from './routes/webhook-subscription-routes.js';
import { validationHook } from './validation-hook.js';

export type { AppDeps } from './app-env.js';

/**
 * The API's Hono app. Every route group registers onto it; middleware, 404/405 and the error
 * handler are shared, so every error anywhere is problem+json.
 *
 * @example
 * const app = createApp(deps);
 * const res = await app.request('/api/admin/job', { method: 'POST', body: JSON.stringify({ handler: 'echo', payload: { message: 'hi' } }), headers: { 'content-type': 'application/json' } });
 */
export function createApp(deps: AppDeps): App {
  // Not strict: `/bullBoard/` and `/healthz/` must reach the same routes as without the slash.
  const app = new OpenAPIHono<AppEnv>({ strict: false, defaultHook: validationHook });

  registerQueueDepth(deps.metrics, deps.jobs.queues.values());
  // First, so it times everything and sees the final status (onError's 500s included).
  app.use('*', requestMetrics(deps.metrics));
  app.use('*', tracing());
  app.use('*', requestContext(deps.log));
  // Before auth: a browser's preflight carries no token (opt-in, CORS_ORIGINS).
  const cors = apiCors(deps.config.corsOrigins);
  if (cors) app.use('/api/*', cors);
  app.use('/api/*', jsonBody);
  app.use('/api/admin/*', authorizeAdminApi(deps.auth));

  registerHealthRoutes(app, deps);
  registerJobRoutes(app, deps);
  registerJobBatchRoutes(app, deps);
  registerJobListRoutes(app, deps);
  registerQueueRoutes(app, deps);
  registerHandlerRoutes(app, deps);
  registerCronJobRoutes(app, deps);
  registerWebhookSubscriptionRoutes(app, deps);
  registerWebhookEventRoutes(app, deps);
  registerJwksRoutes(app, deps.signingKeys);
  registerOpenApiRoutes(app, deps.handlers);
  mountBullBoard(app, { config: deps.config, log: deps.log, queues: [...deps.jobs.queues.values()] });
  mountConsole(app, deps);

  app.notFound((c) => {
    markUnmatched(c);
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length) {
      c.header('Allow', allowed.join(', '));
      return problem(c, 405, { detail: `${c.req.method} is not allowed here; use ${allowed.join(', ')}` });
    }
    return problem(c, 404, { detail: `no route for ${c.req.method} ${c.req.path}` });
  });
  app.onError((err, c) => handleError(err, c, c.get('log') ?? deps.log));
  return app;
}

/** Methods that do have a route at `path`, for 405's `Allow` header. */
function allowedMethods(app: App, path: string): string[] {
  const methods = new Set<string>();
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    const pattern = new RegExp(`^${route.path.replace(/\/+$/, '').replace(/:[^/]+/g, '[^/]+')}$`);
    if (pattern.test(normalized)) methods.add(route.method);
  }
  return [...methods].sort();
}
