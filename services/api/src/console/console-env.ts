import type { Context, Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import type { Logger } from '@jobs/shared/logger';
import type { AppDeps } from '../app-env.js';
import type { CommandContext } from '../cron/cron-job-commands.js';

/**
 * What the API hands each console request (as Hono `Bindings`, through `consoleApp.fetch`):
 * the request's logger (with its request id) and who is acting. The console runs in an app of
 * its own (see mount-console.ts), so the API's context variables do not reach it otherwise.
 */
export interface ConsoleBindings {
  log: Logger;
  /** `console:<basic-auth user>`, or `console:local` when the console is open (local only). */
  actor: string;
}

export type ConsoleEnv = { Bindings: ConsoleBindings };

/** The console's own Hono app, with `/console` as its base path: register `app.get('/webhooks', …)`. */
export type ConsoleApp = Hono<ConsoleEnv, BlankSchema, '/console'>;

export type ConsoleContext = Context<ConsoleEnv>;

/** The API's dependencies: the console reuses its commands and repositories, nothing of its own. */
export type ConsoleDeps = AppDeps;

/**
 * The API commands' context for a console request, so a console change is logged with its actor
 * and writes the same outbox events as the API (SPEC §17).
 *
 * @example
 * await createCronJob(commandContext(c, deps), input);
 */
export function commandContext(c: ConsoleContext, deps: ConsoleDeps): CommandContext {
  return { deps, log: c.env.log, actor: c.env.actor };
}
