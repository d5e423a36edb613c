import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problem } from '../problem.js';
import type { AppEnv } from '../app-env.js';

/** Bodies above this are refused with 413 before they are read in full. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

const tooLarge = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => problem(c, 413, { detail: `the body must be at most ${MAX_BODY_BYTES} bytes` }),
});

/**
 * 413 for bodies over 1 MiB. With a Content-Length the header decides: Node's HTTP parser never
 * hands over more bytes than it announces, so a lying header cannot smuggle more. Only chunked
 * bodies are counted as they stream, by Hono's bodyLimit, which builds a web Request and costs
 * about half of an enqueue's CPU (bench/enqueue-http) — too much to pay on every request.
 */
export const limitBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const length = c.req.header('content-length');
  if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
    if (Number(length) > MAX_BODY_BYTES) return problem(c, 413, { detail: `the body must be at most ${MAX_BODY_BYTES} bytes` });
    return next();
  }
  return tooLarge(c, next);
};

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
