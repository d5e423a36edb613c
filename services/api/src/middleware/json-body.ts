import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problem } from '../problem.js';
import type { AppEnv } from '../app-env.js';

/** Bodies above this are refused with 413 before they are read in full. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/** 413 for bodies over 1 MiB (counted as they stream, so a lying Content-Length does not help). */
export const limitBody: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => problem(c, 413, { detail: `the body must be at most ${MAX_BODY_BYTES} bytes` }),
});

/** 415 when a request carries a body that is not JSON. Bodyless POSTs (trigger, replay) pass. */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return next();
  const length = c.req.header('content-length');
  const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
  const type = c.req.header('content-type');
  if (hasBody && !(type && JSON_TYPE.test(type))) {
    return problem(c, 415, { detail: `send the body as application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'})` });
  }
  return next();
};
