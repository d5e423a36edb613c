import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { App, AppDeps, AppEnv } from '../app-env.js';
import { operatorAccess, operatorGuards, type OperatorAccess } from '../middleware/operator-access.js';
import { CONSOLE_CSS, CONSOLE_CSS_PATH } from './assets/console-css.js';
import type { ConsoleApp, ConsoleEnv } from './console-env.js';
import { registerCronPages } from './cron/cron-pages.js';
import { consoleErrorPage, errorPage } from './error-page.js';
import { CONSOLE_PATH } from './layout.js';
import { registerQueuePages } from './queues/queue-pages.js';
import { registerWebhookPages } from './webhooks/webhook-pages.js';

/**
 * Pages: nothing but our stylesheet (no script at all, nothing inline), forms only to ourselves,
 * never framed (clickjacking a "Delete" button), no `<base>` games.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const MAX_FORM_BYTES = 1024 * 1024;

/**
 * Mounts the console at `/console` (SPEC §17) with BullBoard's access rule (§9): open in local
 * without credentials, basic auth with BullBoard's credentials when set, and not mounted at all
 * (404) outside local without them. Every POST passes the same-origin CSRF check first. Pages
 * reuse the API's commands (same validation, same outbox events).
 *
 * The console is an app of its own behind two wildcard routes, like BullBoard: its routes merged
 * into the API's router would push Hono off the RegExpRouter (test/router-choice.test.ts).
 *
 * @example
 * mountConsole(app, deps); // in createApp
 */
export function mountConsole(app: App, deps: AppDeps): OperatorAccess {
  const access = operatorAccess(deps.config);
  if (access.mode === 'disabled') {
    deps.log.warn('The console is disabled: set BULL_BOARD_USERNAME and BULL_BOARD_PASSWORD to enable it (APP_ENV is not local)');
    return access;
  }
  const consoleApp: ConsoleApp = new Hono<ConsoleEnv>({ strict: false }).basePath(CONSOLE_PATH);
  consoleApp.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    // Pages show live state and may carry a flash cookie's message: never from a cache.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  for (const guard of operatorGuards(access)) consoleApp.use('*', guard);
  // The API's own bound on a body (1 MiB): a form is read whole before it is checked.
  consoleApp.use('*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.html(errorPage(413, `A form may send at most ${MAX_FORM_BYTES} bytes.`), 413) }));

  consoleApp.get(CONSOLE_CSS_PATH.slice(CONSOLE_PATH.length), (c) =>
    c.body(CONSOLE_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=31536000, immutable' }),
  );
  consoleApp.get('/', (c) => c.redirect(`${CONSOLE_PATH}/cron`, 302));
  registerCronPages(consoleApp, deps);
  registerQueuePages(consoleApp, deps);
  registerWebhookPages(consoleApp, deps);
  consoleApp.notFound((c) => c.html(errorPage(404, `There is no console page at ${c.req.path}.`), 404));
  consoleApp.onError(consoleErrorPage);

  const actor = access.mode === 'basic' ? `console:${access.username}` : 'console:local';
  const toConsole = (c: Context<AppEnv>) => consoleApp.fetch(c.req.raw, { log: c.get('log'), actor });
  app.all(CONSOLE_PATH, toConsole);
  app.all(`${CONSOLE_PATH}/*`, toConsole);
  return access;
}
