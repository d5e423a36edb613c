import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';

/** The instrumentation scope of every span this package makes. */
export const TRACER_NAME = '@jobs/shared';

// @opentelemetry/api's global provider is a proxy whose delegate is a shared no-op until an SDK
// registers itself; a fresh proxy hands out that same no-op, so it can be compared against.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether spans made through `provider` (default: the global one) go anywhere. Checked on the
 * hot paths (enqueue, each job run) so that with tracing off no span, context or `traceparent`
 * string is made at all. Reads the proxy's delegate each time, so an SDK registered later
 * (a library user's own NodeSDK) is picked up.
 */
export function tracingOn(provider?: TracerProvider): boolean {
  const p = provider ?? trace.getTracerProvider();
  return p instanceof ProxyTracerProvider ? p.getDelegate() !== NOOP_PROVIDER : true;
}

/**
 * The tracer of `provider`, or of the global provider. A tracer from the global proxy follows a
 * provider registered after it was made.
 */
export function jobsTracer(provider?: TracerProvider): Tracer {
  return (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
}
