/**
 * What OpenTelemetry's standard variables (SPEC §15) ask of this process. Only the switch, the
 * protocol and the default service name are read here; everything else (`OTEL_TRACES_SAMPLER(_ARG)`,
 * `OTEL_BSP_*`, the endpoint URLs, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_RESOURCE_ATTRIBUTES`) is
 * read by the SDK itself, so it behaves as its documentation says.
 */
export interface TracingEnv {
  /** An OTLP endpoint is set and `OTEL_SDK_DISABLED` is not `true`. */
  enabled: boolean;
  protocol: 'http/json' | 'http/protobuf';
  /** `OTEL_SERVICE_NAME`, else the service's own default (`jobs-api`, …). */
  serviceName: string;
}

/** A bad `OTEL_*` value: the message names the variable (the service prints it and exits). */
export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

const PROTOCOLS = ['http/json', 'http/protobuf'] as const;

/**
 * Reads the tracing switch from `env`. Tracing is on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, unless `OTEL_SDK_DISABLED=true`. The protocol defaults to
 * `http/protobuf`, OpenTelemetry's default; `grpc` is refused (no gRPC exporter is shipped).
 *
 * @example
 * readTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'jobs-api');
 * // { enabled: true, protocol: 'http/protobuf', serviceName: 'jobs-api' }
 */
export function readTracingEnv(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingEnv {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const raw = env[name]?.trim() || 'http/protobuf';
  if (!(PROTOCOLS as readonly string[]).includes(raw)) {
    throw new TracingConfigError(`${name}: must be one of ${PROTOCOLS.join(', ')} (got "${raw}")`);
  }
  if (endpoint && !isHttpUrl(endpoint)) {
    const which = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    throw new TracingConfigError(`${which}: must be an http(s) URL such as http://collector:4318 (got "${endpoint}")`);
  }
  return {
    enabled: Boolean(endpoint) && !disabled,
    protocol: raw as TracingEnv['protocol'],
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
