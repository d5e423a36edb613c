import { z } from '@hono/zod-openapi';

/** RFC 9457 problem document, as every error answers. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    field: z.string().optional().openapi({ description: 'the first wrong field, e.g. `body.payload.userId`' }),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

/** The error responses most routes share, for the OpenAPI document. */
export const errorResponses = {
  400: problem('Invalid input; `field` names what is wrong'),
  401: problem('Missing or invalid bearer token'),
  403: problem('The token lacks the required scope'),
  503: problem('Redis or the database is unavailable; retry later'),
} as const;

export const notFoundResponse = { 404: problem('No such resource') } as const;
export const conflictResponse = (description: string) => ({ 409: problem(description) }) as const;

/** A path id: bounded and printable, so hostile ids never reach Redis or SQL unchecked. */
export const IdParam = z.object({
  // `~` separates the queue from the BullMQ id of a job off the default queue (`reports~42`, SPEC §12).
  id: z.string().min(1).max(260).regex(/^[\w.:~-]+$/, 'must be letters, digits, and . _ : ~ -').openapi({ param: { name: 'id', in: 'path' } }),
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
