import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Gauge, Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched (404, 405): never its raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

// OpenTelemetry's HTTP conventions: methods outside this list become `_OTHER`, so a client
// inventing methods cannot grow the label set.
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

// OpenTelemetry's advice for `http.server.request.duration`.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Contexts the app's notFound answered; per request, so nothing outlives it. */
const unmatched = new WeakSet<Context>();

/**
 * Marks a request as matched by no route; call it from the app's `notFound`, whose answer the
 * middleware cannot otherwise tell from a middleware's (both leave Hono's route index on the last
 * middleware that ran).
 */
export function markUnmatched(c: Context): void {
  unmatched.add(c);
}

/**
 * The API's own request metrics (SPEC §10), after OpenTelemetry's HTTP server conventions in
 * their Prometheus names:
 * - `http_server_request_duration_seconds{method,route,status_class}`, a histogram whose `_count`
 *   is the request count;
 * - `http_server_active_requests{method}`, requests in flight.
 *
 * `route` is the template of the route that answered (`/api/admin/job/:id`), `/bullBoard/*` for
 * everything BullBoard serves, and {@link UNMATCHED_ROUTE} for a request no route matched.
 * `status_class` is `2xx`…`5xx`. Register it first: it then times the whole request and sees the
 * final status, including the 500 that `onError` makes of a thrown error. The duration ends when
 * the response starts, before a streamed body is sent.
 *
 * @example
 * app.use('*', requestMetrics(deps.metrics));
 */
export function requestMetrics(registry: Registry): MiddlewareHandler {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests the API answered, by route template, method and status class',
    labelNames: ['method', 'route', 'status_class'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const active = new Gauge({
    name: 'http_server_active_requests',
    help: 'HTTP requests the API is answering now',
    labelNames: ['method'],
    registers: [registry],
  });
  return async (c, next) => {
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : '_OTHER';
    const stop = duration.startTimer({ method });
    active.inc({ method });
    // Hono hands a thrown Error to onError before next() returns, so c.res is the final answer;
    // only a non-Error throw gets past it, and that becomes a 500 too.
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } finally {
      active.dec({ method });
      stop({ route: unmatched.has(c) ? UNMATCHED_ROUTE : routePath(c) || UNMATCHED_ROUTE, status_class: `${Math.floor(status / 100)}xx` });
    }
  };
}
