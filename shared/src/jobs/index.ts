// @jobs/shared/jobs: everything about jobs, including the parts the API and worker service use internally (envelopes, options schema, limits, cancellation). Application code needs only the root.
export * from './types.js';
export * from './errors.js';
export * from './make-job.js';
export * from './envelope.js';
export * from './payload.js';
export * from './job-options.js';
export * from './job-info.js';
export * from './job-client.js';
export * from './enqueue-bulk.js';
export * from './queues.js';
export * from './worker.js';
export * from './processor.js';
export * from './enqueue.js';
export * from './handlers/index.js';
export * from './cancel-job.js';
export * from './abort/abort-reason.js';
export * from './job-metrics.js';
export { JobLimitOptionError, type ConcurrencyOption, type RateLimitOption, type LimitsView } from './limits/limit-options.js';
