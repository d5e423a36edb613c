import { jobsTracer, tracingOn, withServerSpan } from '@jobs/shared/tracing';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

/**
 * The SERVER span of each request (SPEC §15): `METHOD /route/template`, the child of an incoming
 * W3C `traceparent`. Everything after it (the access log line, enqueue, the outbox row) runs in
 * its context, so log lines carry its ids and the request's jobs and webhooks join its trace.
 * With tracing off it only calls `next()`.
 *
 * @example
 * app.use('*', tracing());
 */
export function tracing(): MiddlewareHandler {
  const tracer = jobsTracer();
  return (c, next) => {
    if (!tracingOn()) return next();
    // Hono hands a thrown Error to onError before next() returns, so c.res is the final answer.
    return withServerSpan(
      tracer,
      c.req.raw,
      async () => {
        await next();
        return c.res.status;
      },
      () => routePath(c) || undefined,
    );
  };
}
