import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { jobRef, MAX_BATCH_JOBS } from '@jobs/shared';
import { prepareBulkJobs } from '@jobs/shared/jobs';
import type { App, AppDeps } from '../app-env.js';
import { enqueueBatchIdempotently } from '../idempotency.js';
import { MAX_BATCH_BODY_BYTES } from '../middleware/json-body.js';
import { ApiProblem } from '../problem.js';
import { errorResponses, jsonContent } from '../schemas/common-schemas.js';
import { EnqueueBatchBody, EnqueuedBatch } from '../schemas/job-schemas.js';
import { assertNotInternalHandler } from '../schemas/internal-handlers.js';
import { badRequest, fieldErrors } from '../validation-hook.js';
import { actorKeyProblem, idempotencyKeyOf, idempotencyKeyParameter } from './job-routes.js';

const batchRoute = createRoute({
  method: 'post',
  path: '/api/admin/job/batch',
  operationId: 'enqueueJobs',
  tags: ['jobs'],
  summary: `Enqueue 1–${MAX_BATCH_JOBS} ad-hoc jobs at once, all or none`,
  description:
    `Each job is what POST /api/admin/job takes. Every job is checked before any is added; the 400 names the first wrong one ` +
    `(\`body.jobs[17].payload.userId\`). Jobs go to Redis in one transaction per queue. A job with a dedupeKey or of a ` +
    `superseding handler behaves as if the jobs had been enqueued one by one, in order. The body may be up to ` +
    `${MAX_BATCH_BODY_BYTES / 1024 / 1024} MiB (other routes: 1 MiB). An Idempotency-Key covers the whole batch.`,
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: EnqueueBatchBody } } } },
  parameters: [idempotencyKeyParameter("a repeated request with the same key and body returns the same job ids and adds nothing, kept per caller (the token's `sub`; a token without `sub` gets 400 with this header)")],
  responses: {
    201: jsonContent(EnqueuedBatch, 'Enqueued, ids in the order of the request (or, with a known Idempotency-Key, the jobs it created)'),
    ...errorResponses,
    413: { description: `The body is over ${MAX_BATCH_BODY_BYTES} bytes` },
    422: { description: 'The Idempotency-Key was used before with another body' },
  },
});

/** Zod paths of a batch name the job by its index: `body.jobs[17].payload`, not `body.jobs.17.payload`. */
function batchHook(result: { success: boolean; error?: ZodError; target: string }, c: Context): Response | undefined {
  if (result.success || !result.error) return undefined;
  const part = result.target === 'json' ? 'body' : result.target;
  return badRequest(c, fieldErrors(result.error, part).map((e) => ({ ...e, field: e.field.replace(/^body\.jobs\.(\d+)/, 'body.jobs[$1]') })));
}

/** `POST /api/admin/job/batch` (SPEC §13). */
export function registerJobBatchRoutes(app: App, deps: AppDeps): void {
  const defaultQueue = deps.jobs.queue.name;
  app.openapi(
    batchRoute,
    async (c) => {
      const { jobs } = c.req.valid('json');
      // Internal handlers are refused whatever the scope (SPEC §14), before anything is added.
      for (let i = 0; i < jobs.length; i++) assertNotInternalHandler(deps.handlers, jobs[i]!.handler, `body.jobs[${i}].handler`);
      const idempotencyKey = idempotencyKeyOf(c);
      const answer = (ids: string[], replay: boolean) =>
        c.json({ jobs: ids.map((id, i) => ({ id, handler: jobs[i]!.handler, type: 'adhoc' as const })), ...(replay ? { idempotentReplay: true } : {}) }, 201);
      if (!idempotencyKey) return answer(await deps.jobs.enqueueJobs(jobs), false);

      if (!c.get('actorNamed')) throw actorKeyProblem();
      prepareBulkJobs(deps.handlers, jobs); // 400 naming the job before the key is recorded
      const outcome = await enqueueBatchIdempotently(
        {
          redis: deps.redis,
          keys: deps.keys,
          handlers: deps.handlers,
          locate: (handler, bullId) => {
            const queueName = deps.jobs.queueOf(handler);
            return { queue: deps.jobs.queues.get(queueName) ?? deps.jobs.queue, ref: jobRef(queueName, bullId, defaultQueue) };
          },
          enqueue: (subset) => deps.jobs.enqueueJobs(subset),
        },
        c.get('actor'),
        idempotencyKey,
        jobs,
      );
      if (outcome.kind === 'mismatch') throw new ApiProblem(422, { detail: 'this Idempotency-Key was used with a different body', field: 'header.idempotency-key' });
      return answer(outcome.jobIds, outcome.kind === 'replay');
    },
    batchHook,
  );
}
