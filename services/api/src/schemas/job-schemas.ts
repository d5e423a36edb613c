import { z } from '@hono/zod-openapi';
import { MAX_BATCH_JOBS, type JobType } from '@jobs/shared';
import { enqueueOptionsSchema, jobTypes } from '@jobs/shared/jobs';

export const EnqueueJobBody = z
  .object({
    handler: z.string().min(1).max(200).openapi({ description: 'a registered handler that is not internal (GET /api/admin/handler)', example: 'echo' }),
    payload: z.unknown().openapi({ description: "checked against the handler's payload schema (GET /api/admin/handler)", example: { message: 'hi' } }),
    options: enqueueOptionsSchema.optional(),
  })
  .strict()
  .openapi('EnqueueJobRequest');

const jobType = z.enum(jobTypes as [JobType, ...JobType[]]);

export const EnqueuedJob = z
  .object({ id: z.string(), handler: z.string(), type: jobType, idempotentReplay: z.boolean().optional() })
  .openapi('EnqueuedJob');

export const EnqueueBatchBody = z
  .object({
    jobs: z
      .array(EnqueueJobBody)
      .min(1)
      .max(MAX_BATCH_JOBS)
      .openapi({ description: `1–${MAX_BATCH_JOBS} jobs, each as POST /api/admin/job takes it; all are valid or none is enqueued (400 names the first wrong one: body.jobs[17].payload.userId)` }),
  })
  .strict()
  .openapi('EnqueueBatchRequest');

export const EnqueuedBatch = z
  .object({
    jobs: z.array(EnqueuedJob.omit({ idempotentReplay: true })).openapi({ description: 'one per job of the request, in its order; a job with a dedupeKey equal to an earlier one answers that job\'s id' }),
    idempotentReplay: z.boolean().optional().openapi({ description: 'true when the Idempotency-Key was seen before: the ids are the first request\'s' }),
  })
  .openapi('EnqueuedBatch');

export const JobInfoSchema = z
  .object({
    id: z.string().openapi({ description: 'plain on the default queue, `<queue>~<id>` on another (SPEC §12)' }),
    queue: z.string().openapi({ description: 'the queue it is on (GET /api/admin/queue)' }),
    handler: z.string(),
    type: z.union([jobType, z.literal('unknown')]),
    cronJobId: z.string().optional(),
    state: z.string().openapi({ description: 'waiting, delayed, prioritized, active, completed, failed, superseded, cancelled, …' }),
    payload: z.unknown(),
    progress: z.unknown(),
    attemptsMade: z.number().int(),
    maxAttempts: z.number().int(),
    result: z.unknown().optional(),
    failedReason: z.string().optional(),
    createdAt: z.string(),
    processedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    delayUntil: z.string().optional(),
  })
  .openapi('Job');

export const CancelResultSchema = z
  .object({ id: z.string(), status: z.enum(['removed', 'aborting']) })
  .openapi('CancelResult');

export const HandlerInfoSchema = z
  .object({
    name: z.string(),
    pattern: z.enum(['basic', 'singleton', 'superseding']),
    internal: z.boolean().openapi({ description: 'only the system enqueues it: POST /api/admin/job and cron rows refuse it (400 body.handler)' }),
    payloadSchema: z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema of the payload' }),
  })
  .openapi('Handler');
