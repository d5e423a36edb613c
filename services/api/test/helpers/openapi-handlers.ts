import { z } from 'zod';
import { jobHandlers, makeJob, type HandlerMap } from '../../../../shared/src/index.js';

/** A payload that recurses below its root: zod renders it with `$defs`, which the document must move into its components. */
const Folder: z.ZodType<{ name: string; parent?: { name: string } }> = z.object({
  name: z.string(),
  get parent() {
    return Folder.optional();
  },
});

/** Not a zod schema at all (a hand-made validator): JSON Schema cannot be made from it. */
const opaque = {
  safeParse: (value: unknown) => ({ success: typeof value === 'object' && value !== null, data: value }),
  parse: (value: unknown) => value,
} as unknown as z.ZodType<Record<string, unknown>>;

const run = async () => undefined;

/**
 * A deployment's handlers with every shape the OpenAPI document has to cope with: the built-in
 * ones (`echo`; `sendWebhook` and `webhookEventRetention` internal), a payload with a transform,
 * one that recurses (`$defs`), one that is not an object, one with no schema, one whose schema
 * cannot be rendered, a name that is not a valid component key, and another internal one.
 */
export const openApiTestHandlers: HandlerMap = {
  ...jobHandlers,
  report: makeJob(run, { schema: z.object({ userId: z.string().min(1), day: z.string().transform((d) => new Date(d)) }) }),
  archive: makeJob(run, { schema: z.object({ folder: Folder }) }),
  ping: makeJob(run, { schema: z.string().max(100) }),
  anything: makeJob(run),
  legacy: makeJob(run, { schema: opaque }),
  'billing sync': makeJob(run, { schema: z.object({ invoiceId: z.string() }) }),
  housekeeping: makeJob(run, { schema: z.object({ olderThanDays: z.number() }), internal: true }),
};

/** The names a client may enqueue: every handler above except the internal ones. */
export const PUBLIC_TEST_HANDLERS = ['echo', 'report', 'archive', 'ping', 'anything', 'legacy', 'billing sync'];
