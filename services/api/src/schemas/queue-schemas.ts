import { z } from '@hono/zod-openapi';
import { JobInfoSchema } from './job-schemas.js';

/** A queue name as SPEC §12 allows it; anything else cannot be a queue, so it is a 404 like an unknown one. */
export const QueueNameParam = z.object({
  name: z.string().min(1).max(100).openapi({ param: { name: 'name', in: 'path' }, example: 'jobs' }),
});

/** The job states the list can filter on and the queue view counts. */
export const LISTABLE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
export type ListableState = (typeof LISTABLE_STATES)[number];

const Limits = z
  .object({
    concurrency: z.object({ limit: z.number().int(), keyed: z.boolean() }).optional(),
    rateLimit: z.object({ max: z.number().int(), durationMs: z.number().int(), keyed: z.boolean() }).optional(),
  })
  .openapi('HandlerLimits', { description: 'the limits the handler declares (SPEC §12); keyed = per key rather than per handler' });

export const QueueInfoSchema = z
  .object({
    name: z.string(),
    default: z.boolean().openapi({ description: 'the queue of handlers that name none (QUEUE_NAME)' }),
    paused: z.boolean(),
    counts: z.record(z.enum(LISTABLE_STATES), z.number().int()).openapi({ description: 'jobs by state' }),
    handlers: z.array(z.object({ name: z.string(), pattern: z.string(), internal: z.boolean(), limits: Limits })),
  })
  .openapi('Queue');

export const QueueListSchema = z.object({ items: z.array(QueueInfoSchema) }).openapi('QueueList');

export const QueuePausedSchema = z.object({ name: z.string(), paused: z.boolean() }).openapi('QueuePaused');

export const RetryFailedBody = z
  .object({
    handler: z.string().min(1).max(200).optional().openapi({ description: "only this handler's failed jobs" }),
    limit: z.number().int().min(1).max(100_000).optional().openapi({ description: 'retry at most this many (oldest failures first); default all' }),
  })
  .strict()
  .openapi('RetryFailedRequest');

export const RetryFailedResult = z.object({ retried: z.number().int() }).openapi('RetryFailedResult');

export const CleanBody = z
  .object({
    state: z.enum(['completed', 'failed']),
    olderThanMs: z.number().int().min(0).max(10 * 365 * 24 * 3600 * 1000).openapi({ description: 'only jobs that finished at least this long ago' }),
    limit: z.number().int().min(1).max(1_000_000).optional().openapi({ description: 'remove at most this many; default all' }),
  })
  .strict()
  .openapi('CleanRequest');

export const CleanResult = z.object({ removed: z.number().int() }).openapi('CleanResult');

export const ListJobsQuery = z.object({
  queue: z.string().min(1).max(100).optional().openapi({ param: { name: 'queue', in: 'query' }, description: 'one queue; default every queue' }),
  state: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return [...LISTABLE_STATES];
      const states = text.split(',').map((s) => s.trim());
      const wrong = states.find((s) => !(LISTABLE_STATES as readonly string[]).includes(s));
      if (wrong !== undefined) {
        ctx.addIssue({ code: 'custom', message: `unknown state "${wrong}"; one or more of ${LISTABLE_STATES.join(', ')}, comma-separated` });
        return z.NEVER;
      }
      return [...new Set(states)] as ListableState[];
    })
    .openapi({ param: { name: 'state', in: 'query' }, type: 'string', description: `comma-separated: ${LISTABLE_STATES.join(', ')}; default all`, example: 'failed' }),
  handler: z.string().min(1).max(200).optional().openapi({ param: { name: 'handler', in: 'query' } }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z.string().max(512).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: "the previous page's nextCursor (opaque)" }),
});

export const JobListSchema = z
  .object({
    items: z.array(JobInfoSchema),
    nextCursor: z.string().nullable().openapi({ description: 'pass as `cursor` for the next page; null on the last page' }),
  })
  .openapi('JobList');
