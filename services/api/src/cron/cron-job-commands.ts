import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { JobOptionsError, JobPayloadError, UnknownHandlerError, type HandlerMap } from '@jobs/shared';
import { isInternalHandler } from '@jobs/shared/jobs';
import { recordWebhookEvent } from '@jobs/shared/webhooks';
import type { CronJob, CronJobUpdate, JsonObject } from '@jobs/shared/db';
import type { Logger } from '@jobs/shared/logger';
import type { AppDeps } from '../app-env.js';
import { ApiProblem } from '../problem.js';
import type { CreateCronJobBody, UpdateCronJobBody } from '../schemas/cron-job-schemas.js';
import { relayAfterCommit } from '../webhooks/relay-after-commit.js';
import { deleteCronJobRow, findCronJobRow, insertCronJobRow, isJobIdConflict, updateCronJobRow, type DbExecutor } from './cron-job-repository.js';
import { checkHandlerPayload, checkPattern } from './cron-job-validation.js';
import { toCronJobView } from './cron-job-view.js';
import { notifyScheduler } from './scheduler-notify.js';

/** Who asks, and where to log: each mutation is logged with its actor and cron id. */
export interface CommandContext {
  deps: AppDeps;
  log: Logger;
  actor: string;
}

export type CreateCronJobInput = z.output<typeof CreateCronJobBody>;
export type UpdateCronJobInput = z.output<typeof UpdateCronJobBody>;

const notFound = (id: string) => new ApiProblem(404, { detail: `no cron job ${id}` });

/**
 * Validates and inserts a cron row, then tells the scheduler. 400 for a bad pattern, handler or
 * payload; 409 when `jobId` is taken (caught from the unique index, so two racing creates cannot
 * both win).
 *
 * @example
 * const row = await createCronJob(ctx, { name: 'Nightly', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'hi' }, enabled: true, maxAttempts: 3, backoffMs: 1000 });
 */
export async function createCronJob(ctx: CommandContext, input: CreateCronJobInput): Promise<CronJob> {
  const pattern = checkPattern(input.pattern);
  checkHandlerPayload(ctx.deps.handlers, input.handler, input.payload, true);
  const jobId = input.jobId ?? `cron-${randomUUID()}`;
  const row = await conflictOnJobId(jobId, () =>
    ctx.deps.db.transaction().execute(async (trx) => {
      const created = await insertCronJobRow(trx, {
        job_id: jobId,
        name: input.name,
        pattern,
        handler: input.handler,
        payload: input.payload as JsonObject,
        enabled: input.enabled,
        max_attempts: input.maxAttempts,
        backoff_ms: input.backoffMs,
      });
      await recordCronJobEvent(trx, 'create', created);
      return created;
    }),
  );
  ctx.log.info({ actor: ctx.actor, cronJobId: row.id, jobId: row.job_id }, 'cron job created');
  await notifyScheduler(ctx.deps, { cronJobId: row.id, op: 'create', jobId: row.job_id }, ctx.log);
  await relayAfterCommit(ctx.deps, ctx.log);
  return row;
}

/**
 * Applies a partial update, validating the merged row (see {@link checkedChanges}), then tells
 * the scheduler, naming the scheduler id the row had before (a renamed `jobId` must lose its old
 * scheduler). An empty patch changes nothing and returns the row.
 *
 * @example
 * const row = await updateCronJob(ctx, id, { pattern: '*\/10 * * * *' });
 */
export async function updateCronJob(ctx: CommandContext, id: string, patch: UpdateCronJobInput): Promise<CronJob> {
  if (Object.keys(patch).length === 0) {
    const row = await findCronJobRow(ctx.deps.db, id);
    if (!row) throw notFound(id);
    return row;
  }
  const { row, before } = await conflictOnJobId(patch.jobId ?? '', () =>
    ctx.deps.db.transaction().execute(async (trx) => {
      // Locked, so the merge is validated against the row that is actually overwritten.
      const current = await findCronJobRow(trx, id, { forUpdate: true });
      if (!current) throw notFound(id);
      const updated = await updateCronJobRow(trx, id, checkedChanges(ctx.deps.handlers, current, patch));
      await recordCronJobEvent(trx, 'update', updated!);
      return { row: updated!, before: current };
    }),
  );
  ctx.log.info({ actor: ctx.actor, cronJobId: row.id, jobId: row.job_id, fields: Object.keys(patch) }, 'cron job updated');
  await notifyScheduler(ctx.deps, { cronJobId: row.id, op: 'update', jobId: before.job_id }, ctx.log);
  await relayAfterCommit(ctx.deps, ctx.log);
  return row;
}

/**
 * Deletes a cron row, then tells the scheduler (which removes its job scheduler).
 *
 * @example
 * await deleteCronJob(ctx, id);
 */
export async function deleteCronJob(ctx: CommandContext, id: string): Promise<void> {
  const row = await ctx.deps.db.transaction().execute(async (trx) => {
    const deleted = await deleteCronJobRow(trx, id);
    if (!deleted) throw notFound(id);
    await recordCronJobEvent(trx, 'delete', deleted);
    return deleted;
  });
  ctx.log.info({ actor: ctx.actor, cronJobId: row.id, jobId: row.job_id }, 'cron job deleted');
  await notifyScheduler(ctx.deps, { cronJobId: row.id, op: 'delete', jobId: row.job_id }, ctx.log);
  await relayAfterCommit(ctx.deps, ctx.log);
}

/**
 * Enqueues one run of the row now, as a `cronTrigger` job with the row's payload, attempts and
 * backoff. Disabled rows run too: this is a manual run. A row that cannot run as stored (its
 * handler was unregistered, or it was edited in SQL into something invalid, such as an internal
 * handler) answers 409.
 *
 * @example
 * const jobId = await triggerCronJob(ctx, id);
 */
export async function triggerCronJob(ctx: CommandContext, id: string): Promise<{ jobId: string; row: CronJob }> {
  const row = await findCronJobRow(ctx.deps.db, id);
  if (!row) throw notFound(id);
  // Only a row written in SQL can name one: the API never stores it, and the scheduler skips it.
  if (isInternalHandler(ctx.deps.handlers, row.handler)) {
    throw new ApiProblem(409, { detail: `cron job ${row.id} cannot run as stored: handler "${row.handler}" is internal (only the system enqueues it)` });
  }
  try {
    const jobId = await ctx.deps.jobs.enqueueJob(row.handler, row.payload, { type: 'cronTrigger', cronJobId: row.id, attempts: row.max_attempts, backoffMs: row.backoff_ms });
    ctx.log.info({ actor: ctx.actor, cronJobId: row.id, jobId }, 'cron job triggered');
    return { jobId, row };
  } catch (err) {
    if (err instanceof UnknownHandlerError || err instanceof JobPayloadError || err instanceof JobOptionsError) {
      throw new ApiProblem(409, { detail: `cron job ${row.id} cannot run as stored: ${err.message}` });
    }
    throw err;
  }
}

/**
 * The columns a patch changes, after checking the merged row. A pattern or handler/payload that
 * the patch touches is always checked; untouched ones are re-checked only if the row ends up
 * enabled, so a row broken behind the API's back (SQL edit, handler removed) can still be
 * disabled, and then repaired field by field.
 */
function checkedChanges(handlers: HandlerMap, current: CronJob, patch: UpdateCronJobInput): CronJobUpdate {
  const enabled = patch.enabled ?? current.enabled;
  const changes: CronJobUpdate = {};
  if (patch.pattern !== undefined) changes.pattern = checkPattern(patch.pattern);
  else if (enabled) checkPattern(current.pattern);
  if (patch.handler !== undefined || patch.payload !== undefined || enabled) {
    checkHandlerPayload(handlers, patch.handler ?? current.handler, patch.payload ?? current.payload, patch.payload !== undefined, patch.handler !== undefined);
  }
  if (patch.jobId !== undefined) changes.job_id = patch.jobId;
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.handler !== undefined) changes.handler = patch.handler;
  if (patch.payload !== undefined) changes.payload = patch.payload as JsonObject;
  if (patch.enabled !== undefined) changes.enabled = patch.enabled;
  if (patch.maxAttempts !== undefined) changes.max_attempts = patch.maxAttempts;
  if (patch.backoffMs !== undefined) changes.backoff_ms = patch.backoffMs;
  return changes;
}

/**
 * The webhook hook (SPEC §8): the `cronJob.<action>` event, with the row as the API shows it,
 * written to the outbox inside the mutation's transaction; relayed once it commits.
 */
async function recordCronJobEvent(trx: DbExecutor, action: 'create' | 'update' | 'delete', row: CronJob): Promise<void> {
  await recordWebhookEvent(trx, { resource: 'cronJob', action, resourceId: row.id, data: { ...toCronJobView(row) } });
}

/** Runs `write`, turning a unique violation on `job_id` into 409 naming `body.jobId`. */
async function conflictOnJobId<T>(jobId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isJobIdConflict(err)) throw new ApiProblem(409, { detail: `a cron job with jobId "${jobId}" already exists`, field: 'body.jobId' });
    throw err;
  }
}
