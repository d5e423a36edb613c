import { createRoute } from '@hono/zod-openapi';
import type { AnyJobDefinition } from '@jobs/shared';
import type { LimitsView } from '@jobs/shared/jobs';
import type { App, AppDeps } from '../app-env.js';
import { cleanJobs, retryFailedJobs } from '../queues/queue-commands.js';
import { queueNamed } from '../queues/queue-lookup.js';
import { ADMIN_REDIS_TIMEOUT_MS, onRedis } from '../queues/redis-guard.js';
import { errorResponses, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import {
  CleanBody,
  CleanResult,
  LISTABLE_STATES,
  type ListableState,
  QueueListSchema,
  QueueNameParam,
  QueuePausedSchema,
  RetryFailedBody,
  RetryFailedResult,
} from '../schemas/queue-schemas.js';

const security = [{ bearer: [] }];

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/queue',
  operationId: 'listQueues',
  tags: ['queues'],
  summary: 'Every queue: job counts by state, paused, its handlers and their limits (scope jobs:admin)',
  security,
  responses: { 200: jsonContent(QueueListSchema, 'The queues, the default one first'), ...errorResponses },
});

const pauseRoute = createRoute({
  method: 'post',
  path: '/api/admin/queue/{name}/pause',
  operationId: 'pauseQueue',
  tags: ['queues'],
  summary: 'Pause a queue on every worker: no job starts until resumed; running ones finish (scope jobs:admin)',
  security,
  request: { params: QueueNameParam },
  responses: { 200: jsonContent(QueuePausedSchema, 'Paused'), ...errorResponses, ...notFoundResponse },
});

const resumeRoute = createRoute({
  method: 'post',
  path: '/api/admin/queue/{name}/resume',
  operationId: 'resumeQueue',
  tags: ['queues'],
  summary: 'Resume a paused queue (scope jobs:admin)',
  security,
  request: { params: QueueNameParam },
  responses: { 200: jsonContent(QueuePausedSchema, 'Resumed'), ...errorResponses, ...notFoundResponse },
});

const retryRoute = createRoute({
  method: 'post',
  path: '/api/admin/queue/{name}/retry',
  operationId: 'retryFailedJobs',
  tags: ['queues'],
  summary: 'Retry failed jobs (not cancelled ones), oldest failures first, each with its attempts reset (scope jobs:admin)',
  security,
  request: { params: QueueNameParam, body: { required: false, content: { 'application/json': { schema: RetryFailedBody } } } },
  responses: { 200: jsonContent(RetryFailedResult, 'How many went back to waiting'), ...errorResponses, ...notFoundResponse },
});

const cleanRoute = createRoute({
  method: 'post',
  path: '/api/admin/queue/{name}/clean',
  operationId: 'cleanQueue',
  tags: ['queues'],
  summary: 'Remove completed or failed jobs that finished before olderThanMs ago (scope jobs:admin)',
  security,
  request: { params: QueueNameParam, body: { required: true, content: { 'application/json': { schema: CleanBody } } } },
  responses: { 200: jsonContent(CleanResult, 'How many were removed'), ...errorResponses, ...notFoundResponse },
});

/** What a handler declares about its limits (SPEC §12), for display; `{}` when it declares none. */
const limitsOf = (def: AnyJobDefinition): LimitsView => def.limits ?? {};

const countsOf = (counts: Record<string, number>) => Object.fromEntries(LISTABLE_STATES.map((s) => [s, counts[s] ?? 0])) as Record<ListableState, number>;

/** `/api/admin/queue…`: list, pause, resume, retry failed, clean (SPEC §12). */
export function registerQueueRoutes(app: App, deps: AppDeps): void {
  const defaultQueue = deps.jobs.queue.name;

  app.openapi(listRoute, async (c) => {
    const items = await Promise.all(
      [...deps.jobs.queues].map(async ([name, queue]) => {
        const [counts, paused] = await onRedis(deps.redis, () => Promise.all([queue.getJobCounts(...LISTABLE_STATES), queue.isPaused()]), ADMIN_REDIS_TIMEOUT_MS);
        const handlers = Object.entries(deps.handlers)
          .filter(([handler]) => deps.jobs.queueOf(handler) === name)
          .map(([handler, def]) => ({ name: handler, pattern: def.pattern, internal: def.internal === true, limits: limitsOf(def) }));
        return { name, default: name === defaultQueue, paused, counts: countsOf(counts), handlers };
      }),
    );
    return c.json({ items }, 200);
  });

  app.openapi(pauseRoute, async (c) => {
    const queue = queueNamed(deps.jobs, c.req.valid('param').name);
    await onRedis(deps.redis, () => queue.pause(), ADMIN_REDIS_TIMEOUT_MS);
    c.get('log').info({ queue: queue.name }, 'queue paused');
    return c.json({ name: queue.name, paused: true }, 200);
  });

  app.openapi(resumeRoute, async (c) => {
    const queue = queueNamed(deps.jobs, c.req.valid('param').name);
    await onRedis(deps.redis, () => queue.resume(), ADMIN_REDIS_TIMEOUT_MS);
    c.get('log').info({ queue: queue.name }, 'queue resumed');
    return c.json({ name: queue.name, paused: false }, 200);
  });

  app.openapi(retryRoute, async (c) => {
    const queue = queueNamed(deps.jobs, c.req.valid('param').name);
    // The body is optional (validation is skipped without one): an empty POST retries every failed job.
    const body: { handler?: string; limit?: number } = c.req.valid('json') ?? {};
    const retried = await onRedis(deps.redis, () => retryFailedJobs(deps.redis, queue, body));
    c.get('log').info({ queue: queue.name, handler: body.handler, limit: body.limit, retried }, 'failed jobs retried');
    return c.json({ retried }, 200);
  });

  app.openapi(cleanRoute, async (c) => {
    const queue = queueNamed(deps.jobs, c.req.valid('param').name);
    const body = c.req.valid('json');
    const removed = await onRedis(deps.redis, () => cleanJobs(queue, body));
    c.get('log').info({ queue: queue.name, ...body, removed }, 'jobs cleaned');
    return c.json({ removed }, 200);
  });
}
