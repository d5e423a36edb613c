import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { problem } from './problem.js';

/** One wrong field: `field` is a dotted path from the part of the request (`body.payload.n`, `query.limit`). */
export interface FieldError {
  field: string;
  message: string;
}

const PART: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header' };

/** Zod issues → field errors; an unknown key names itself. */
export function fieldErrors(error: ZodError, part: string): FieldError[] {
  return error.issues.map((issue) => {
    const path = [...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
    return { field: [part, ...path].join('.'), message: issue.message };
  });
}

/** 400 problem+json naming the first wrong field and listing all of them. */
export function badRequest(c: Context, errors: FieldError[]): Response {
  return problem(c, 400, { detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), field: errors[0]?.field, errors });
}

/** The default hook of every OpenAPI route: validation failures answer 400 naming the field. */
export function validationHook(result: { success: boolean; error?: ZodError; target: string }, c: Context): Response | undefined {
  if (result.success || !result.error) return undefined;
  return badRequest(c, fieldErrors(result.error, PART[result.target] ?? result.target));
}
