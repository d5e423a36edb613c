import { createRoute } from '@hono/zod-openapi';
import { jobRef, type JobInfo } from '@jobs/shared';
import type { App, AppDeps } from '../app-env.js';
import { ApiProblem } from '../problem.js';
import { decodeJobCursor, encodeJobCursor, findJobs } from '../queues/job-list.js';
import { queueNamed } from '../queues/queue-lookup.js';
import { ADMIN_REDIS_TIMEOUT_MS, onRedis } from '../queues/redis-guard.js';
import { errorResponses, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import { JobListSchema, ListJobsQuery } from '../schemas/queue-schemas.js';

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/job',
  operationId: 'listJobs',
  tags: ['jobs'],
  summary: 'List jobs, newest first, across queues and states, with keyset pagination (scope jobs:admin)',
  description:
    'Items are shaped like GET /api/admin/job/{id}. BullMQ keeps no index by creation time, so a page scans the ids of the chosen queues and states (finished ones only until they are too old to matter): narrow with `queue` and `state` on very large queues.',
  security: [{ bearer: [] }],
  request: { query: ListJobsQuery },
  responses: { 200: jsonContent(JobListSchema, 'One page'), ...errorResponses, ...notFoundResponse },
});

/** `GET /api/admin/job`: the job list (SPEC §12). */
export function registerJobListRoutes(app: App, deps: AppDeps): void {
  const defaultQueue = deps.jobs.queue.name;
  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const after = query.cursor === undefined ? undefined : decodeJobCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new ApiProblem(400, { detail: 'cursor is not one this API handed out', field: 'query.cursor' });
    const queues = query.queue === undefined ? [...deps.jobs.queues.values()] : [queueNamed(deps.jobs, query.queue, 'query.queue')];
    const found = await onRedis(deps.redis, () => findJobs(deps.redis, queues, { states: query.state, handler: query.handler, limit: query.limit, after }), ADMIN_REDIS_TIMEOUT_MS);
    const page = found.slice(0, query.limit);
    // Read through the client, as GET /api/admin/job/{id} does: the same shape and the same ids.
    const infos = await Promise.all(page.map((job) => deps.jobs.getJob(jobRef(job.queue, job.id, defaultQueue))));
    const items = infos.filter((info): info is JobInfo => info !== undefined);
    const last = page.at(-1);
    return c.json({ items, nextCursor: found.length > query.limit && last ? encodeJobCursor(last) : null }, 200);
  });
}
