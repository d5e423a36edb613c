import { diag, DiagLogLevel, type TracerProvider } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { readTracingEnv, TracingConfigError } from './tracing-env.js';

/** What {@link startTracing} started; `shutdown` flushes the spans still queued, then stops. */
export interface TracingHandle {
  readonly enabled: boolean;
  /** The provider spans go to (registered globally too); undefined when tracing is off. */
  readonly provider: TracerProvider | undefined;
  /** Exports what is queued and stops exporting. Safe to call more than once; never throws. */
  shutdown(): Promise<void>;
}

const OFF: TracingHandle = { enabled: false, provider: undefined, shutdown: async () => undefined };

/**
 * Starts tracing for a service when OpenTelemetry's variables ask for it (SPEC §15): a
 * NodeTracerProvider with a batch processor and the OTLP/HTTP exporter (`http/protobuf` or
 * `http/json`), registered globally with the W3C `traceparent` propagator and the
 * AsyncLocalStorage context manager. With no endpoint set it loads nothing of the SDK (the modules
 * are imported here, dynamically, and only then), and every span call stays `@opentelemetry/api`'s
 * no-op. Throws `TracingConfigError` naming the variable for a bad protocol or endpoint.
 *
 * @example
 * const tracing = await startTracing('jobs-api', log);
 * onShutdownSignal(log, async () => { await api.close(); await tracing.shutdown(); });
 */
export async function startTracing(defaultServiceName: string, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<TracingHandle> {
  const settings = readTracingEnv(env, defaultServiceName);
  if (!settings.enabled) return OFF;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { resourceFromAttributes, defaultResource, envDetector, detectResources }, exporterModule] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    settings.protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  // The SDK reports export failures through `diag`; without a logger they vanish.
  diag.setLogger(
    { error: (m, ...a) => log.warn({ otel: a }, `tracing: ${m}`), warn: (m, ...a) => log.warn({ otel: a }, `tracing: ${m}`), info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over the service's default name.
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': settings.serviceName })).merge(detectResources({ detectors: [envDetector] }));
  // Endpoint, headers, timeout (exporter) and OTEL_BSP_* (processor) and the sampler (provider) come from the environment.
  const exporter = new exporterModule.OTLPTraceExporter();
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  log.info({ serviceName: settings.serviceName, protocol: settings.protocol }, 'tracing on: spans exported over OTLP/HTTP');
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    provider,
    shutdown: () =>
      (stopped ??= provider.shutdown().catch((err: unknown) => {
        log.warn({ err }, 'tracing: flushing spans at shutdown failed');
      })),
  };
}

/**
 * {@link startTracing} for a service's entry point: a bad `OTEL_*` value stops the process with
 * one line naming the variable, like a bad config value (`loadConfigOrExit`).
 *
 * @example
 * const tracing = await startTracingOrExit('jobs-worker', log);
 */
export async function startTracingOrExit(defaultServiceName: string, log: Logger): Promise<TracingHandle> {
  try {
    return await startTracing(defaultServiceName, log);
  } catch (err) {
    if (!(err instanceof TracingConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
