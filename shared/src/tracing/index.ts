// @jobs/shared/tracing: OpenTelemetry set-up from the standard variables and the spans of requests, jobs and webhooks (SPEC §15).
export * from './tracing-env.js';
export * from './start-tracing.js';
export * from './tracing-state.js';
export * from './trace-carrier.js';
export * from './job-spans.js';
export * from './http-client-span.js';
export * from './http-server-span.js';
