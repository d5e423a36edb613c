import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ConsoleContext } from './console-env.js';

/** A one-time message about the last action, shown on the page a POST redirects to. */
export interface Flash {
  kind: 'success' | 'error';
  text: string;
  /** A link after the text, e.g. the triggered job in BullBoard. Same-site paths only. */
  link?: { href: string; text: string } | undefined;
}

const COOKIE = 'console_flash';
const MAX_TEXT = 500;

/**
 * Answers a form POST with 303 to `location`, carrying `flash` in a short-lived cookie for the
 * next page (POST-redirect-GET: a reload does not post again). The cookie is HttpOnly,
 * SameSite=Strict and scoped to `/console`.
 *
 * @example
 * return redirectWithFlash(c, '/console/cron', { kind: 'success', text: 'Cron job "Nightly" created.' });
 */
export function redirectWithFlash(c: ConsoleContext, location: string, flash: Flash): Response {
  setCookie(c, COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), {
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
    maxAge: 60,
    secure: new URL(c.req.url).protocol === 'https:',
  });
  return c.redirect(location, 303);
}

/**
 * The flash set by the last redirect, once: the cookie is cleared in the same answer. A cookie
 * that is not one of ours (edited, truncated) is ignored; a link must be a path on this site.
 *
 * @example
 * const flash = takeFlash(c);
 * return c.html(renderPage({ title: 'Cron jobs', current: 'cron', body, flash }));
 */
export function takeFlash(c: ConsoleContext): Flash | undefined {
  const value = getCookie(c, COOKIE);
  if (value === undefined) return undefined;
  deleteCookie(c, COOKIE, { path: '/console' });
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Flash>;
    if ((parsed.kind !== 'success' && parsed.kind !== 'error') || typeof parsed.text !== 'string') return undefined;
    const link = parsed.link;
    const safeLink = link && typeof link.href === 'string' && typeof link.text === 'string' && /^\/(?![/\\])/.test(link.href) ? link : undefined;
    return { kind: parsed.kind, text: parsed.text.slice(0, MAX_TEXT), link: safeLink };
  } catch {
    return undefined;
  }
}
