/**
 * `@jobs/shared`: what an application needs to define handlers, enqueue jobs, run a worker and
 * verify the webhooks Jobs sends. Documented in docs/library.md. Everything else (config, logger,
 * database, scheduler, webhook delivery internals, Redis helpers) lives behind subpath exports
 * (`@jobs/shared/jobs`, `/config`, `/db`, …) used by the three services; those may change in any release.
 */

// Defining handlers
export { makeJob, makeSingletonJob, makeSupersedingJob, type MakeJobOptions, type SingletonJobOptions } from './jobs/make-job.js';
export type { JobContext, JobServices, JobDefinition, AnyJobDefinition, HandlerMap, HandlerRegistry, PayloadOf, JobType, EnqueueOptions } from './jobs/types.js';
export type { ConcurrencyOption, RateLimitOption } from './jobs/limits/limit-options.js';
export { jobHandlers, JobHandlerName, type JobPayloads } from './jobs/handlers/index.js';
export { AbortReason } from './jobs/abort/abort-reason.js';

// Enqueueing
export { createJobClient, type CreateJobClientOptions, type JobClient } from './jobs/job-client.js';
export { enqueueJob, getDefaultJobClient, closeDefaultJobClient } from './jobs/enqueue.js';
export { MAX_BATCH_JOBS, type BulkJob } from './jobs/enqueue-bulk.js';
export { jobRef, parseJobRef, type JobLocation } from './jobs/queues.js';
export type { JobInfo } from './jobs/job-info.js';
export type { CancelResult } from './jobs/cancel-job.js';

// The worker
export { createWorker, type CreateWorkerOptions, type JobWorker } from './jobs/worker.js';

// Errors
export {
  UnknownHandlerError,
  JobPayloadError,
  JobOptionsError,
  QueueUnavailableError,
  DependencyUnavailableError,
  RateLimitedError,
  type PayloadIssue,
} from './jobs/errors.js';
export { JobLimitOptionError } from './jobs/limits/limit-options.js';
export { BatchJobError } from './jobs/enqueue-bulk.js';

// Receiving webhooks
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookVerificationReason, type WebhookPublicJwk } from './webhooks/verify-webhook.js';
