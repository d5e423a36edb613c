import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter, type Tracer } from '@opentelemetry/api';

// OpenTelemetry's HTTP conventions: other methods are reported as `_OTHER` (bounded attribute values).
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);

const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** The request as the server span needs it (a fetch `Request`, as Hono hands it over). */
export interface ServerRequest {
  method: string;
  url: string;
  headers: Headers;
}

/**
 * Runs `handle` under a SERVER span, the child of the request's W3C `traceparent` (if any), named
 * `METHOD /route/template` once `routeOf()` knows the template (`http.route`; never the raw path,
 * so ids do not make every span name unique). `handle` resolves to the response status; a throw
 * is recorded as 500. A 5xx marks the span as an error; a 4xx does not (the caller's mistake,
 * answered correctly).
 *
 * @example
 * app.use('*', (c, next) => withServerSpan(tracer, c.req.raw, async () => (await next(), c.res.status), () => routePath(c)));
 */
export async function withServerSpan(tracer: Tracer, request: ServerRequest, handle: () => Promise<number>, routeOf: () => string | undefined): Promise<void> {
  const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
  const parent = propagation.extract(ROOT_CONTEXT, request.headers, headersGetter);
  const url = new URL(request.url);
  const userAgent = request.headers.get('user-agent');
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': url.pathname,
        'url.scheme': url.protocol.slice(0, -1),
        'server.address': url.hostname,
        ...(userAgent ? { 'user_agent.original': userAgent } : {}),
      },
    },
    parent,
  );
  let status = 500;
  try {
    status = await context.with(trace.setSpan(parent, span), handle);
  } finally {
    const route = routeOf();
    if (route) {
      span.setAttribute('http.route', route);
      span.updateName(`${method} ${route}`);
    }
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}
