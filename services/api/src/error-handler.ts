import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { BatchJobError, JobOptionsError, JobPayloadError, QueueUnavailableError, UnknownHandlerError } from '@jobs/shared';
import { isDatabaseUnavailable } from '@jobs/shared/db';
import type { Logger } from '@jobs/shared/logger';
import { ApiProblem, problem } from './problem.js';
import { badRequest } from './validation-hook.js';

/**
 * The single `onError` of the app: domain errors become the problem documents their meaning
 * calls for; anything unexpected is logged and answered with a detail-free 500.
 */
export function handleError(err: Error, c: Context, log: Logger): Response {
  if (err instanceof ApiProblem) return problem(c, err.status, err.fields);
  if (err instanceof HTTPException && err.status < 500) {
    if (err.res) return err.getResponse(); // keeps headers such as WWW-Authenticate
    return problem(c, err.status, { detail: err.message || undefined });
  }
  if (err instanceof BatchJobError) {
    // A job of a batch: the same answer as for that job alone, its fields under `body.jobs[i]`.
    const at = `body.jobs[${err.index}]`;
    const cause = err.cause;
    if (cause instanceof UnknownHandlerError) return problem(c, 400, { detail: `${at}.handler: ${cause.message}`, field: `${at}.handler`, knownHandlers: cause.known });
    if (cause instanceof JobPayloadError) return badRequest(c, cause.issues.map((i) => ({ field: `${at}.${i.path}`, message: i.message })));
    return badRequest(c, [{ field: `${at}.${cause.field}`, message: cause.message }]);
  }
  if (err instanceof UnknownHandlerError) {
    return problem(c, 400, { detail: err.message, field: 'body.handler', knownHandlers: err.known });
  }
  if (err instanceof JobPayloadError) {
    return badRequest(c, err.issues.map((i) => ({ field: `body.${i.path}`, message: i.message })));
  }
  if (err instanceof JobOptionsError) {
    return badRequest(c, [{ field: `body.${err.field}`, message: err.message }]);
  }
  if (err instanceof QueueUnavailableError || isDatabaseUnavailable(err)) {
    const what = err instanceof QueueUnavailableError ? 'the job queue (Redis)' : 'the database';
    log.warn({ err: { message: err.message }, path: c.req.path }, 'dependency unavailable');
    c.header('Retry-After', '5');
    return problem(c, 503, { detail: `${what} is unavailable; try again shortly` });
  }
  log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
  return problem(c, 500, { detail: 'an unexpected error occurred; it has been logged' });
}
