export * from './tracing-env.js';
export * from './start-tracing.js';
export * from './tracing-state.js';
export * from './trace-carrier.js';
export * from './job-spans.js';
export * from './http-client-span.js';
export * from './http-server-span.js';
