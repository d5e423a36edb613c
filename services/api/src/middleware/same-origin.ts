import type { Context, MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { problem } from '../problem.js';

const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;

/**
 * CSRF guard for pages a browser authenticates by itself (basic auth, cookies): BullBoard, and
 * the console to come (SPEC §14). A state-changing request (any method but GET/HEAD/OPTIONS) is
 * refused with 403 unless it comes from this very origin:
 *
 * 1. `Sec-Fetch-Site`, when sent, must be `same-origin` (`same-site` is a sibling subdomain,
 *    `cross-site` another site, `none` no page at all: none of them is this page).
 * 2. `Origin`, when sent, must be this server's own origin (`null` from sandboxed frames fails).
 * 3. With neither (older browsers), a `Referer` from another origin is refused.
 * 4. Then Hono's `csrf` middleware: a "simple" body (`text/plain`, form-urlencoded, multipart, or
 *    no Content-Type), which a foreign `<form>` can send without a CORS preflight, passes only
 *    with `Sec-Fetch-Site: same-origin` or a same `Origin`. BullBoard's UI sends fetch requests,
 *    which carry both.
 *
 * Requests with a JSON body and neither header (curl, scripts) pass: a browser cannot send
 * those cross-origin without a preflight this server never approves.
 *
 * "This server's own origin" is the request URL's (Host header, http/https of the socket), and
 * also the one `X-Forwarded-Proto`/`X-Forwarded-Host` describe: behind a TLS-terminating proxy
 * (the example Ingress) the browser says `Origin: https://jobs.example.com` while Node sees
 * plain http. Trusting those headers here is safe: a page on another origin cannot add them to
 * a victim's request (custom headers need a preflight), and a client that sets them itself holds
 * no victim's credentials.
 *
 * @example
 * app.use('/bullBoard/*', sameOriginOnly());
 */
export function sameOriginOnly(): MiddlewareHandler {
  // Steps 1–3 have already vetted any header present, so Hono's check only has to recognise it.
  const honoCsrf = csrf({ origin: (origin, c) => ownOrigins(c).has(origin), secFetchSite: 'same-origin' });

  return async (c, next) => {
    if (SAFE_METHOD.test(c.req.method)) return next();
    const refuse = (why: string) =>
      problem(c, 403, { detail: `cross-origin ${c.req.method} refused: ${why}; this page only accepts changes from its own origin` });
    const own = ownOrigins(c);
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    if (site !== undefined && site !== 'same-origin') return refuse(`Sec-Fetch-Site is ${quote(site)}`);
    if (origin !== undefined && !own.has(origin)) return refuse(`Origin ${quote(origin)} is not ${[...own].join(' or ')}`);
    if (site === undefined && origin === undefined) {
      const referer = c.req.header('referer');
      if (referer !== undefined && !own.has(originOf(referer) ?? '')) return refuse('the Referer is another origin');
    }
    let allowed = false;
    try {
      // Called with a stand-in `next`, so errors of the real chain (basic auth's 401) are not caught here.
      await honoCsrf(c, async () => {
        allowed = true;
      });
    } catch (err) {
      if (!(err instanceof HTTPException) || err.status !== 403) throw err;
    }
    if (!allowed) return refuse('a form-like body (text/plain, form data or none) without an Origin or Sec-Fetch-Site header');
    return next();
  };
}

/** The origins this request may come from: its URL's, and the one forwarded by a proxy. */
function ownOrigins(c: Context): Set<string> {
  const url = new URL(c.req.url);
  const origins = new Set([url.origin]);
  const proto = firstValue(c.req.header('x-forwarded-proto'))?.toLowerCase();
  const host = firstValue(c.req.header('x-forwarded-host'));
  if (proto !== undefined || host !== undefined) {
    const forwarded = originOf(`${proto === 'http' || proto === 'https' ? proto : url.protocol.slice(0, -1)}://${host ?? url.host}`);
    if (forwarded) origins.add(forwarded);
  }
  return origins;
}

/** The first entry of a comma-separated proxy header (each hop appends its own). */
function firstValue(header: string | undefined): string | undefined {
  const value = header?.split(',')[0]?.trim();
  return value ? value : undefined;
}

function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** A header value as shown in an error: quoted, and short. */
const quote = (value: string) => JSON.stringify(value.slice(0, 100));
