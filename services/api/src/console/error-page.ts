import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { handleError } from '../error-handler.js';
import { ApiProblem } from '../problem.js';
import type { ConsoleContext } from './console-env.js';
import { renderPage } from './layout.js';

/**
 * The console's `onError`: the same mapping as the API's (a missing row 404, Redis or the database
 * away 503 with Retry-After, anything unexpected logged and 500), shown as a page instead of
 * problem+json. Basic auth's 401 keeps its own answer (with `WWW-Authenticate`).
 */
export async function consoleErrorPage(err: Error, c: ConsoleContext): Promise<Response> {
  if (err instanceof HTTPException && err.res) return err.getResponse();
  const mapped = handleError(err, c, c.env.log);
  const status = mapped.status as ContentfulStatusCode;
  const detail = err instanceof ApiProblem ? err.message : (((await mapped.json()) as { detail?: string }).detail ?? 'Something went wrong.');
  const retryAfter = mapped.headers.get('retry-after');
  if (retryAfter) c.header('Retry-After', retryAfter);
  return c.html(errorPage(status, detail), status);
}

/** A page for an error status, with a way back. */
export function errorPage(status: number, detail: string) {
  const title = status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Request refused';
  return renderPage({
    title,
    current: undefined,
    body: html`<p>${detail}</p><p><a href="/console/cron">Back to the cron jobs</a></p>`,
  });
}
