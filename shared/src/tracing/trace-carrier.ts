import { context, isSpanContextValid, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { z } from 'zod';

/**
 * A W3C trace context as stored with work that continues elsewhere: in a job's data (so its runs
 * join the enqueuer's trace) and in a webhook outbox row (so the deliveries join the mutation's).
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** Accepts what {@link carrierOf} writes; anything else in stored data is ignored, not an error. */
export const traceCarrierSchema = z.object({ traceparent: z.string().max(64), tracestate: z.string().max(512).optional() });

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

/** The context a stored carrier continues, or the root context for none (a new trace). */
export function contextOf(carrier: unknown): Context {
  const parsed = traceCarrierSchema.safeParse(carrier);
  return parsed.success ? propagation.extract(ROOT_CONTEXT, parsed.data) : ROOT_CONTEXT;
}
