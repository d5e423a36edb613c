import type { HandlerMap } from '@jobs/shared';
import { isInternalHandler } from '@jobs/shared/jobs';
import { ApiProblem } from '../problem.js';

/**
 * Why `handler` may not be named in an HTTP request, or undefined when it may: an internal
 * handler (`sendWebhook`, `webhookEventRetention`, any `internal: true` one) is enqueued only by
 * the system itself (SPEC §14), so no token, whatever its scope, can make the system sign a
 * webhook of its own making. Unknown names are left to the enqueue, which lists the known ones.
 *
 * @example
 * internalHandlerIssue(deps.handlers, 'sendWebhook'); // 'handler "sendWebhook" is internal: …'
 * internalHandlerIssue(deps.handlers, 'echo');        // undefined
 */
export function internalHandlerIssue(handlers: HandlerMap, handler: string): string | undefined {
  if (!isInternalHandler(handlers, handler)) return undefined;
  return `handler "${handler}" is internal: only the system itself enqueues it (GET /api/admin/handler marks such handlers "internal": true)`;
}

/**
 * 400 problem+json naming `field` when `handler` is internal. `POST /api/admin/job` checks
 * `body.handler`; a batch enqueue checks each job (`body.jobs[3].handler`) before adding any.
 *
 * @example
 * assertNotInternalHandler(deps.handlers, body.handler);                       // field body.handler
 * body.jobs.forEach((job, i) => assertNotInternalHandler(deps.handlers, job.handler, `body.jobs[${i}].handler`));
 */
export function assertNotInternalHandler(handlers: HandlerMap, handler: string, field = 'body.handler'): void {
  const issue = internalHandlerIssue(handlers, handler);
  if (issue) throw new ApiProblem(400, { detail: issue, field, errors: [{ field, message: issue }] });
}
