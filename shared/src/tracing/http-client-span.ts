import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { urlWithoutSecrets } from '../webhooks/webhook-event.js';

/** What a client span needs from the attempt's outcome. */
export interface HttpAttemptResult {
  status: number | null;
  error: string | null;
  ok: boolean;
}

/**
 * Runs one outgoing POST under a CLIENT span `POST` (OpenTelemetry HTTP conventions:
 * `http.request.method`, `url.full` without path secrets or query, `server.address`/`server.port`,
 * `http.response.status_code`, `error.type`), and hands `send` the headers with the span's
 * `traceparent` (and `tracestate`) added, so the receiver can continue the trace.
 *
 * @example
 * const result = await withClientSpan(tracer, new URL(url), headers, (h) => send(url, body, h));
 */
export async function withClientSpan<R extends HttpAttemptResult>(tracer: Tracer, target: URL, headers: Record<string, string>, send: (headers: Record<string, string>) => Promise<R>): Promise<R> {
  const port = target.port ? Number(target.port) : target.protocol === 'https:' ? 443 : 80;
  const span = tracer.startSpan('POST', {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': 'POST',
      // The subscription URL's path and query may hold the receiver's secret (Slack-style hooks).
      'url.full': urlWithoutSecrets(target.href),
      'server.address': target.hostname,
      'server.port': port,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  const traced = { ...headers };
  propagation.inject(ctx, traced);
  try {
    const result = await context.with(ctx, () => send(traced));
    if (result.status !== null) span.setAttribute('http.response.status_code', result.status);
    if (!result.ok) {
      // error.type: the HTTP status for an answer, else this project's code (timeout, refused, …).
      span.setAttribute('error.type', result.status !== null && result.status >= 400 ? String(result.status) : (result.error ?? 'unknown'));
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? undefined });
    }
    return result;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
