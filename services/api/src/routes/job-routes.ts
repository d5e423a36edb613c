import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { jobRef, type JobInfo } from '@jobs/shared';
import type { App, AppDeps } from '../app-env.js';
import { enqueueIdempotently } from '../idempotency.js';
import { ApiProblem } from '../problem.js';
import { conflictResponse, errorResponses, IdParam, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import { CancelResultSchema, EnqueuedJob, EnqueueJobBody, JobInfoSchema } from '../schemas/job-schemas.js';
import { assertNotInternalHandler } from '../schemas/internal-handlers.js';

/**
 * The `Idempotency-Key` header of the enqueue routes (single and batch), for the OpenAPI
 * document only. It is read by {@link idempotencyKeyOf}, not by a zod header validator: that
 * validator copies every header of every request into an object first, which was a measurable
 * part of an enqueue's CPU (bench/enqueue-http) to read one optional header.
 */
export const idempotencyKeyParameter = (description: string) =>
  ({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255 }, description }) as const;

/** The request's `Idempotency-Key`, or undefined; 400 naming `header.idempotency-key` when it is not 1–255 characters. */
export function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > 255) {
    const message = `must be 1–255 characters (got ${key.length})`;
    throw new ApiProblem(400, { detail: `header.idempotency-key: ${message}`, field: 'header.idempotency-key', errors: [{ field: 'header.idempotency-key', message }] });
  }
  return key;
}

const enqueueRoute = createRoute({
  method: 'post',
  path: '/api/admin/job',
  operationId: 'enqueueJob',
  tags: ['jobs'],
  summary: 'Enqueue an ad-hoc job',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: EnqueueJobBody } } } },
  parameters: [idempotencyKeyParameter("a repeated request with the same key and body returns the same job id, kept per caller (the token's `sub`; a token without `sub` gets 400 with this header)")],
  responses: {
    201: jsonContent(EnqueuedJob, 'Enqueued (or, with a known Idempotency-Key, the job it created)'),
    ...errorResponses,
    422: { description: 'The Idempotency-Key was used before with another body' },
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/admin/job/{id}',
  operationId: 'getJob',
  tags: ['jobs'],
  summary: 'State, progress, attempts and outcome of a job',
  security: [{ bearer: [] }],
  request: { params: IdParam },
  responses: { 200: jsonContent(JobInfoSchema, 'The job'), ...errorResponses, ...notFoundResponse },
});

const cancelRoute = createRoute({
  method: 'delete',
  path: '/api/admin/job/{id}',
  operationId: 'cancelJob',
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

/**
 * Keys are kept per caller: a token without `sub` names none (RFC 6750 invalid_request: 400).
 * Scoping by a hash of the token instead would give a retry with a refreshed token a second job.
 */
export function actorKeyProblem(): ApiProblem {
  return new ApiProblem(400, {
    detail: 'Idempotency-Key needs a bearer token with a `sub` claim: keys are kept per caller, and this token names none. Send the request without the header, or with a token that has `sub`',
    field: 'header.idempotency-key',
  });
}

/** `POST/GET/DELETE /api/admin/job`: enqueue, inspect, cancel. */
export function registerJobRoutes(app: App, deps: AppDeps): void {
  app.openapi(enqueueRoute, async (c) => {
    const body = c.req.valid('json');
    assertNotInternalHandler(deps.handlers, body.handler); // 400 body.handler, whatever the scope (SPEC §14)
    const idempotencyKey = idempotencyKeyOf(c);
    const enqueue = () => deps.jobs.enqueueJob(body.handler, body.payload, body.options ?? {});
    if (!idempotencyKey) {
      const id = await enqueue();
      return c.json({ id, handler: body.handler, type: 'adhoc' as const }, 201);
    }
    if (!c.get('actorNamed')) throw actorKeyProblem();
    const outcome = await enqueueIdempotently(
      {
        redis: deps.redis,
        keys: deps.keys,
        queue: deps.jobs.queue,
        handlers: deps.handlers,
        // The job is on its handler's queue; its id names that queue off the default one (SPEC §12).
        locate: (handler, bullId) => {
          const queueName = deps.jobs.queueOf(handler);
          return { queue: deps.jobs.queues.get(queueName) ?? deps.jobs.queue, ref: jobRef(queueName, bullId, deps.jobs.queue.name) };
        },
        enqueue: (jobId) => deps.jobs.enqueueJob(body.handler, body.payload, { ...body.options, jobId }),
      },
      c.get('actor'),
      idempotencyKey,
      body,
    );
    if (outcome.kind === 'mismatch') throw new ApiProblem(422, { detail: 'this Idempotency-Key was used with a different body', field: 'header.idempotency-key' });
    if (outcome.kind === 'replay') return c.json({ id: outcome.jobId, handler: body.handler, type: 'adhoc' as const, idempotentReplay: true }, 201);
    return c.json({ id: outcome.jobId, handler: body.handler, type: 'adhoc' as const }, 201);
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
