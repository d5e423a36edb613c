import { context, isSpanContextValid, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';

/**
 * A W3C trace context as stored with work that continues elsewhere: in a job's data (so its runs
 * join the enqueuer's trace) and in a webhook outbox row (so the deliveries join the mutation's).
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/**
 * The W3C headers of `ctx` (default: the active context), or undefined when it holds no valid
 * span: nothing is serialized while tracing is off. Uses the registered propagator (W3C trace
 * context when `startTracing` registered the SDK).
 *
 * @example
 * const carrier = carrierOf(trace.setSpan(context.active(), producerSpan)); // { traceparent: '00-…-…-01' }
 */
export function carrierOf(ctx: Context = context.active()): TraceCarrier | undefined {
  const span = trace.getSpan(ctx);
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  if (!out.traceparent) return undefined;
  return out.tracestate ? { traceparent: out.traceparent, tracestate: out.tracestate } : { traceparent: out.traceparent };
}

/**
 * The context a stored carrier continues, or the root context for none (a new trace). Runs once
 * per job run: a plain shape check rather than a schema parse; the propagator validates the
 * `traceparent` itself (a malformed one yields the root context).
 */
export function contextOf(carrier: unknown): Context {
  if (typeof carrier !== 'object' || carrier === null) return ROOT_CONTEXT;
  const { traceparent, tracestate } = carrier as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== 'string' || traceparent.length > 64) return ROOT_CONTEXT;
  const headers: TraceCarrier = typeof tracestate === 'string' && tracestate.length <= 512 ? { traceparent, tracestate } : { traceparent };
  return propagation.extract(ROOT_CONTEXT, headers);
}
