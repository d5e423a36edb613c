import { createRoute, z } from '@hono/zod-openapi';
import type { JobInfo } from '@jobs/shared';
import type { App, AppDeps } from '../app-env.js';
import { claimIdempotencyKey } from '../idempotency.js';
import { ApiProblem } from '../problem.js';
import { conflictResponse, errorResponses, IdParam, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import { CancelResultSchema, EnqueuedJob, EnqueueJobBody, JobInfoSchema } from '../schemas/job-schemas.js';

const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({ description: 'a repeated request with the same key and body returns the same job id' }),
});

const enqueueRoute = createRoute({
  method: 'post',
  path: '/api/admin/job',
  tags: ['jobs'],
  summary: 'Enqueue an ad-hoc job',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: EnqueueJobBody } } }, headers: IdempotencyHeader },
  responses: {
    201: jsonContent(EnqueuedJob, 'Enqueued (or, with a known Idempotency-Key, the job it created)'),
    ...errorResponses,
    ...conflictResponse('The Idempotency-Key is in use by a request still in progress'),
    422: { description: 'The Idempotency-Key was used before with another body' },
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/admin/job/{id}',
  tags: ['jobs'],
  summary: 'State, progress, attempts and outcome of a job',
  security: [{ bearer: [] }],
  request: { params: IdParam },
  responses: { 200: jsonContent(JobInfoSchema, 'The job'), ...errorResponses, ...notFoundResponse },
});

const cancelRoute = createRoute({
  method: 'delete',
  path: '/api/admin/job/{id}',
  tags: ['jobs'],
  summary: 'Cancel a job: remove it if it has not started, abort it if it runs',
  security: [{ bearer: [] }],
  request: { params: IdParam },
  responses: {
    200: jsonContent(CancelResultSchema, 'Removed before it started'),
    202: jsonContent(CancelResultSchema, 'Running: its signal was fired on whatever worker runs it; it ends as cancelled'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse('The job already finished'),
  },
});

/** `POST/GET/DELETE /api/admin/job`: enqueue, inspect, cancel. */
export function registerJobRoutes(app: App, deps: AppDeps): void {
  app.openapi(enqueueRoute, async (c) => {
    const body = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const enqueue = () => deps.jobs.enqueueJob(body.handler, body.payload, body.options ?? {});
    if (!idempotencyKey) {
      const id = await enqueue();
      return c.json({ id, handler: body.handler, type: 'adhoc' as const }, 201);
    }
    const claim = await claimIdempotencyKey(deps.redis, deps.keys, c.get('actor'), idempotencyKey, body);
    if (claim.kind === 'mismatch') throw new ApiProblem(422, { detail: 'this Idempotency-Key was used with a different body', field: 'header.idempotency-key' });
    if (claim.kind === 'in_progress') throw new ApiProblem(409, { detail: 'a request with this Idempotency-Key is still in progress; retry shortly' });
    if (claim.kind === 'replay') return c.json({ id: claim.jobId, handler: body.handler, type: 'adhoc' as const, idempotentReplay: true }, 201);
    try {
      const id = await enqueue();
      await claim.commit(id);
      return c.json({ id, handler: body.handler, type: 'adhoc' as const }, 201);
    } catch (err) {
      await claim.abandon().catch(() => undefined);
      throw err;
    }
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const job: JobInfo | undefined = await deps.jobs.getJob(id);
    if (!job) throw new ApiProblem(404, { detail: `no job ${id}` });
    return c.json(job, 200);
  });

  app.openapi(cancelRoute, async (c) => {
    const { id } = c.req.valid('param');
    const result = await deps.jobs.cancelJob(id);
    if (result === 'not_found') throw new ApiProblem(404, { detail: `no job ${id}` });
    if (result === 'finished') throw new ApiProblem(409, { detail: `job ${id} already finished` });
    c.get('log').info({ jobId: id, result }, 'job cancel requested');
    return c.json({ id, status: result }, result === 'removed' ? 200 : 202);
  });
}
