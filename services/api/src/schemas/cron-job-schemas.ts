import { z } from '@hono/zod-openapi';
import { findUnstorable, isStorableText, UNSTORABLE_TEXT } from '../cron/storable-json.js';

/** BullMQ job-scheduler ids become Redis key parts, so `:` is refused. */
const JOB_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** A string Postgres can store (see `isStorableText`): bad input answers 400, never a database error. */
const text = (min: number, max: number) => z.string().min(min).max(max).refine(isStorableText, UNSTORABLE_TEXT);

/** A JSON object that a jsonb column accepts; the issue names the offending path. */
const jsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const found = findUnstorable(value);
  if (found) ctx.addIssue({ code: 'custom', path: found.path, message: found.message });
});

/** The editable fields, without defaults (PATCH must not fill in what the caller left out). */
const fields = {
  jobId: z
    .string()
    .regex(JOB_ID, 'must be 1-200 letters, digits, "_", "." or "-" (no ":")')
    .openapi({ description: 'the BullMQ job scheduler id; unique', example: 'nightly-report' }),
  name: text(1, 200).openapi({ example: 'Nightly report' }),
  pattern: text(1, 256).openapi({ description: 'cron, UTC: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first', example: '0 3 * * *' }),
  handler: text(1, 200).openapi({ description: 'a registered handler that is not internal (GET /api/admin/handler)', example: 'echo' }),
  payload: jsonObject.openapi({ description: "a JSON object, checked against the handler's payload schema", example: { message: 'hi' } }),
  enabled: z.boolean(),
  maxAttempts: z.number().int().min(1).max(100).openapi({ description: 'tries per run, first one included' }),
  backoffMs: z.number().int().min(0).max(86_400_000).openapi({ description: 'base of the exponential backoff between tries' }),
};

export const CreateCronJobBody = z
  .object({
    jobId: fields.jobId.optional().openapi({ description: 'the BullMQ job scheduler id; unique; default `cron-<uuid>`' }),
    name: fields.name,
    pattern: fields.pattern,
    handler: fields.handler,
    payload: fields.payload.default({}),
    enabled: fields.enabled.default(true),
    maxAttempts: fields.maxAttempts.default(3),
    backoffMs: fields.backoffMs.default(1_000),
  })
  .strict()
  .openapi('CreateCronJobRequest');

export const UpdateCronJobBody = z.object(fields).partial().strict().openapi('UpdateCronJobRequest');

export const CronJobSchema = z
  .object({
    id: z.string().openapi({ format: 'uuid' }),
    jobId: z.string(),
    name: z.string(),
    pattern: z.string(),
    handler: z.string(),
    payload: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    maxAttempts: z.number().int(),
    backoffMs: z.number().int(),
    nextRunAt: z.string().nullable().openapi({ description: 'next tick (ISO 8601, UTC); null when disabled' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('CronJob');

export const CronJobListSchema = z
  .object({
    items: z.array(CronJobSchema),
    nextCursor: z.string().nullable().openapi({ description: 'pass as `cursor` for the next page; null on the last page' }),
  })
  .openapi('CronJobList');

export const ListCronJobsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z.string().max(512).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: "the previous page's nextCursor (opaque)" }),
  enabled: z.enum(['true', 'false']).optional().openapi({ param: { name: 'enabled', in: 'query' } }),
  handler: text(1, 200).optional().openapi({ param: { name: 'handler', in: 'query' } }),
});

/** Any string: an id that is not a uuid is simply not found (404), never a 400 or a failed cast. */
export const CronJobIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid', description: 'the cron job id (uuid)' }),
});

export const TriggeredCronJob = z
  .object({ id: z.string(), handler: z.string(), type: z.literal('cronTrigger'), cronJobId: z.string() })
  .openapi('TriggeredCronJob');
