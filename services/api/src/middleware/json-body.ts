import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problem } from '../problem.js';
import type { AppEnv } from '../app-env.js';

/** Bodies above this are refused with 413 before they are read in full. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * `POST /api/admin/job/batch` only: up to 1,000 jobs of about 10 KiB each (SPEC §13). Raised
 * for that route alone, so no other route parses bodies this large.
 */
export const MAX_BATCH_BODY_BYTES = 10 * 1024 * 1024;
const BATCH_PATH = /^\/api\/admin\/job\/batch\/?$/;

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

const tooLarge = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: (c) => problem(c, 413, { detail: `the body must be at most ${maxSize} bytes` }),
  });
const tooLargeDefault = tooLarge(MAX_BODY_BYTES);
const tooLargeBatch = tooLarge(MAX_BATCH_BODY_BYTES);

/**
 * One request header, read from Node's own header object when the app runs on
 * @hono/node-server (`c.env.incoming`), else through Hono (tests' `app.request`). Node parses
 * the headers once into a plain object; a lookup through the web `Headers` wrapper costs a few
 * µs each, and this middleware runs on every request.
 */
function header(c: Context, name: string): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Both body checks of every `/api/*` request in one pass over its headers:
 *
 * - 413 for bodies over 1 MiB (10 MiB for the batch route). With a Content-Length the header
 *   decides: Node's HTTP parser never hands over more bytes than it announces, so a lying header
 *   cannot smuggle more. Only chunked bodies are counted as they stream, by Hono's bodyLimit,
 *   which builds a web Request and costs about half of an enqueue's CPU (bench/enqueue-http) —
 *   too much to pay on every request.
 * - 415 when a POST/PUT/PATCH carries a body that is not JSON. Bodyless POSTs (trigger, replay) pass.
 */
export const jsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const method = c.req.method;
  const batch = method === 'POST' && BATCH_PATH.test(c.req.path);
  const max = batch ? MAX_BATCH_BODY_BYTES : MAX_BODY_BYTES;
  const length = header(c, 'content-length');
  const chunked = header(c, 'transfer-encoding') !== undefined;
  if (length !== undefined && !chunked && Number(length) > max) return problem(c, 413, { detail: `the body must be at most ${max} bytes` });
  if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && ((length !== undefined && length !== '0') || chunked)) {
    const type = header(c, 'content-type');
    if (!(type && JSON_TYPE.test(type))) {
      return problem(c, 415, { detail: `send the body as application/json (got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'})` });
    }
  }
  if (length !== undefined && !chunked) return next();
  return (batch ? tooLargeBatch : tooLargeDefault)(c, next);
};
