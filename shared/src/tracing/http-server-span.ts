import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type TextMapGetter, type Tracer } from '@opentelemetry/api';

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
  const { headers } = request;
  // Most requests carry no trace context: skip the propagators' three header lookups and parses.
  const parent = headers.has('traceparent') ? propagation.extract(ROOT_CONTEXT, headers, headersGetter) : ROOT_CONTEXT;
  const attributes: Attributes = { 'http.request.method': method, ...urlAttributes(request.url) };
  const userAgent = headers.get('user-agent');
  if (userAgent) attributes['user_agent.original'] = userAgent;
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
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

/**
 * `url.path`, `url.scheme` and `server.address` of an absolute request URL, sliced rather than
 * parsed: the server already validated it, and a WHATWG `URL` per request was a tenth of the
 * span's cost (bench/lib/tracing-probe.ts profile). A URL it cannot slice gets no URL attributes.
 */
export function urlAttributes(url: string): Attributes {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd <= 0) return {};
  const hostStart = schemeEnd + 3;
  let authorityEnd = hostStart;
  while (authorityEnd < url.length && !'/?#'.includes(url[authorityEnd]!)) authorityEnd++;
  let pathEnd = authorityEnd;
  while (pathEnd < url.length && url[pathEnd] !== '?' && url[pathEnd] !== '#') pathEnd++;
  const authority = url.slice(hostStart, authorityEnd);
  const at = authority.lastIndexOf('@');
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  // An IPv6 literal keeps its brackets' content; otherwise the host ends at the port's colon.
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.split(':', 1)[0]!;
  return { 'url.path': url.slice(authorityEnd, pathEnd) || '/', 'url.scheme': url.slice(0, schemeEnd).toLowerCase(), 'server.address': host.toLowerCase() };
}
