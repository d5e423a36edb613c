import { JobPayloadError, UnknownHandlerError, type HandlerMap } from '@jobs/shared';
import { isInternalHandler, parsePayload, resolveHandler } from '@jobs/shared/jobs';
import { CronPatternError, parseCronPattern } from '@jobs/shared/cron';
import { ApiProblem } from '../problem.js';

/**
 * The pattern as the scheduler will store and run it (blanks normalised), or a 400 naming
 * `body.pattern` with the parser's message (which says which field is wrong).
 *
 * @example
 * checkPattern(' 0  3 * * * '); // '0 3 * * *'
 * checkPattern('61 * * * *');   // throws ApiProblem 400, field body.pattern
 */
export function checkPattern(pattern: string): string {
  try {
    return parseCronPattern(pattern).pattern;
  } catch (err) {
    if (err instanceof CronPatternError) throw new ApiProblem(400, { detail: err.message, field: 'body.pattern' });
    throw err;
  }
}

/**
 * Checks that `handler` is registered and not internal (400 `body.handler`), and that `payload`
 * passes its schema, as the worker will when the job runs. The payload is stored as given (its schema's defaults apply at each run).
 * `payloadSent` is false when the payload is the row's current one (a PATCH that changes only the
 * handler): the message then says so, since the caller did not send it; `handlerSent` likewise.
 *
 * @example
 * checkHandlerPayload(deps.handlers, 'echo', { message: 'hi' }, true);
 * checkHandlerPayload(deps.handlers, 'echo', {}, true); // throws 400, field body.payload.message
 */
export function checkHandlerPayload(handlers: HandlerMap, handler: string, payload: unknown, payloadSent: boolean, handlerSent = true): void {
  if (isInternalHandler(handlers, handler)) {
    // Only the system enqueues internal handlers (SPEC §14); built-in schedules run them without a row.
    const detail = `handler "${handler}" is internal: a cron job cannot run it${handlerSent ? '' : " (the cron job's current handler; send another handler)"}`;
    throw new ApiProblem(400, { detail, field: 'body.handler', errors: [{ field: 'body.handler', message: detail }] });
  }
  try {
    parsePayload(handler, resolveHandler(handlers, handler).schema, payload);
  } catch (err) {
    if (err instanceof UnknownHandlerError) {
      // Only the handlers a cron job may name: internal ones are not offered.
      const knownHandlers = err.known.filter((name) => !isInternalHandler(handlers, name));
      throw new ApiProblem(400, { detail: `unknown handler "${handler}"; known: ${knownHandlers.join(', ')}`, field: 'body.handler', knownHandlers });
    }
    if (err instanceof JobPayloadError) {
      const errors = err.issues.map((issue) => ({ field: `body.${issue.path}`, message: issue.message }));
      const listed = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      const detail = payloadSent ? listed : `the cron job's current payload does not fit handler "${handler}"; send a payload with it (${listed})`;
      throw new ApiProblem(400, { detail, field: errors[0]?.field, errors });
    }
    throw err;
  }
}
