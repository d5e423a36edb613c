// @jobs/client: a typed client of the Jobs HTTP API (SPEC §16). The CLI (`jobs`) is in ./cli.
export { createJobsClient, type BatchCallOptions, type EnqueueCallOptions, type JobsClient, type JobsClientOptions } from './client.js';
export { JobsApiError, JobsNetworkError, JobsWaitTimeoutError, type Problem } from './errors.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export type { WaitForJobOptions } from './wait-for-job.js';
export { FINAL_STATES } from './types.js';
export type * from './types.js';
