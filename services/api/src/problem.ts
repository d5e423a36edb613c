import { STATUS_CODES } from 'node:http';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An RFC 9457 problem document. Extension members (e.g. the invalid `field`) may be added. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

/**
 * Answers with `application/problem+json`. `type` stays `about:blank` (RFC 9457 §4.2.1) until a
 * problem needs a URI of its own; the title is then the HTTP reason phrase.
 *
 * @example
 * return problem(c, 404, { detail: `no job ${id}` });
 */
export function problem(c: Context, status: ContentfulStatusCode, fields: Partial<Problem> = {}): Response {
  const body: Problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, ...fields };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

/**
 * Thrown by route handlers to answer with a problem document; the app's `onError` renders it.
 * Throwing (rather than returning) keeps each route's typed success responses intact.
 *
 * @example
 * throw new ApiProblem(404, { detail: `no job ${id}` });
 */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly fields: Partial<Problem> = {},
  ) {
    super(fields.detail ?? String(status));
  }
}
