import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { App, AppDeps, AppEnv } from '../app-env.js';
import { createCronJob, deleteCronJob, triggerCronJob, updateCronJob, type CommandContext } from '../cron/cron-job-commands.js';
import { findCronJobRow, listCronJobRows } from '../cron/cron-job-repository.js';
import { toCronJobView } from '../cron/cron-job-view.js';
import { decodeCursor, encodeCursor } from '../cron/pagination.js';
import { ApiProblem } from '../problem.js';
import { conflictResponse, errorResponses, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import {
  CreateCronJobBody,
  CronJobIdParam,
  CronJobListSchema,
  CronJobSchema,
  ListCronJobsQuery,
  TriggeredCronJob,
  UpdateCronJobBody,
} from '../schemas/cron-job-schemas.js';

const tags = ['cronJobs'];
const security = [{ bearer: [] }];
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const jobIdTaken = conflictResponse('Another cron job has this jobId');

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/cronJob',
  operationId: 'listCronJobs',
  tags,
  summary: 'List cron jobs, oldest first (keyset pagination)',
  security,
  request: { query: ListCronJobsQuery },
  responses: { 200: jsonContent(CronJobListSchema, 'One page of cron jobs'), ...errorResponses },
});

const createCronJobRoute = createRoute({
  method: 'post',
  path: '/api/admin/cronJob',
  operationId: 'createCronJob',
  tags,
  summary: 'Create a cron job',
  security,
  request: { body: jsonBody(CreateCronJobBody) },
  responses: { 201: jsonContent(CronJobSchema, 'Created; the scheduler picks it up within a second'), ...errorResponses, ...jobIdTaken },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/admin/cronJob/{id}',
  operationId: 'getCronJob',
  tags,
  summary: 'Read a cron job',
  security,
  request: { params: CronJobIdParam },
  responses: { 200: jsonContent(CronJobSchema, 'The cron job'), ...errorResponses, ...notFoundResponse },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/api/admin/cronJob/{id}',
  operationId: 'updateCronJob',
  tags,
  summary: 'Update some fields of a cron job (the merged result is validated)',
  security,
  request: { params: CronJobIdParam, body: jsonBody(UpdateCronJobBody) },
  responses: { 200: jsonContent(CronJobSchema, 'Updated'), ...errorResponses, ...notFoundResponse, ...jobIdTaken },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/api/admin/cronJob/{id}',
  operationId: 'deleteCronJob',
  tags,
  summary: 'Delete a cron job (its job scheduler is removed)',
  security,
  request: { params: CronJobIdParam },
  responses: { 204: { description: 'Deleted' }, ...errorResponses, ...notFoundResponse },
});

const triggerRoute = createRoute({
  method: 'post',
  path: '/api/admin/cronJob/{id}/trigger',
  operationId: 'triggerCronJob',
  tags,
  summary: 'Run a cron job once now (type cronTrigger), enabled or not',
  security,
  request: { params: CronJobIdParam },
  responses: {
    202: jsonContent(TriggeredCronJob, 'Enqueued'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse('The row cannot run as stored (its handler is no longer registered or is internal, or its payload no longer fits)'),
  },
});

/** `/api/admin/cronJob`: CRUD of `cron_job` rows, and manual runs (SPEC §7). */
export function registerCronJobRoutes(app: App, deps: AppDeps): void {
  const command = (c: Context<AppEnv>): CommandContext => ({ deps, log: c.get('log'), actor: c.get('actor') });

  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new ApiProblem(400, { detail: "query.cursor: not a cursor from this list; pass a previous page's nextCursor unchanged", field: 'query.cursor' });
    }
    const { rows, next } = await listCronJobRows(deps.db, {
      limit: query.limit,
      ...(after ? { after } : {}),
      ...(query.enabled ? { enabled: query.enabled === 'true' } : {}),
      ...(query.handler ? { handler: query.handler } : {}),
    });
    const now = new Date();
    return c.json({ items: rows.map((row) => toCronJobView(row, now)), nextCursor: next ? encodeCursor(next) : null }, 200);
  });

  app.openapi(createCronJobRoute, async (c) => {
    const row = await createCronJob(command(c), c.req.valid('json'));
    return c.json(toCronJobView(row), 201);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const row = await findCronJobRow(deps.db, id);
    if (!row) throw new ApiProblem(404, { detail: `no cron job ${id}` });
    return c.json(toCronJobView(row), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const row = await updateCronJob(command(c), c.req.valid('param').id, c.req.valid('json'));
    return c.json(toCronJobView(row), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    await deleteCronJob(command(c), c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(triggerRoute, async (c) => {
    const { jobId, row } = await triggerCronJob(command(c), c.req.valid('param').id);
    return c.json({ id: jobId, handler: row.handler, type: 'cronTrigger' as const, cronJobId: row.id }, 202);
  });
}
