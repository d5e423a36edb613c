import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono, type Context } from 'hono';
import type { Config } from '@jobs/shared/config';
import type { Logger } from '@jobs/shared/logger';
import type { App } from '../app-env.js';
import { operatorAccess, operatorGuards, type OperatorAccess } from '../middleware/operator-access.js';
import { problem } from '../problem.js';

export const BULL_BOARD_PATH = '/bullBoard';

/** Which of the seed's three access rules applies (SPEC §9); the console follows the same rules. */
export type BullBoardAccess = OperatorAccess;

/** See {@link operatorAccess}: BullBoard and the console share one access rule. */
export const bullBoardAccess = operatorAccess;

/**
 * Mounts BullBoard at `/bullBoard` for `queues`, behind the access rule. The admin API's bearer
 * tokens play no part here, and BullBoard credentials open nothing under `/api/admin`. Changes
 * (retry, clean, pause, add…) are accepted from BullBoard's own origin only ({@link sameOriginOnly}).
 */
export function mountBullBoard(app: App, options: { config: Config; log: Logger; queues: Queue[] }): BullBoardAccess {
  const access = bullBoardAccess(options.config);
  if (access.mode === 'disabled') {
    options.log.warn('BullBoard is disabled: set BULL_BOARD_USERNAME and BULL_BOARD_PASSWORD to enable it (APP_ENV is not local)');
    return access;
  }
  if (access.mode === 'open') options.log.warn('BullBoard is open without auth at /bullBoard (APP_ENV=local, no BULL_BOARD_USERNAME/PASSWORD)');

  const serverAdapter = new HonoAdapter(serveStatic);
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Jobs' } },
  });
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  // CSRF check in every mode, then basic auth when credentials are set (operatorGuards).
  for (const guard of operatorGuards(access)) {
    app.use(BULL_BOARD_PATH, guard);
    app.use(`${BULL_BOARD_PATH}/*`, guard);
  }
  // BullBoard's routes live in an app of their own, reached through two wildcard routes: merged
  // into the API's router, their patterns made Hono fall back from its RegExpRouter to the
  // TrieRouter for every request, a measurable part of an enqueue's CPU (bench/profile.ts).
  const board = new Hono({ strict: false }).route(BULL_BOARD_PATH, serverAdapter.registerPlugin());
  board.notFound((c) => problem(c, 404, { detail: `no route for ${c.req.method} ${c.req.path}` }));
  board.onError((err) => {
    throw err; // to the API's error handler (problem+json, logged)
  });
  const toBoard = (c: Context) => board.fetch(c.req.raw, c.env);
  app.all(BULL_BOARD_PATH, toBoard);
  app.all(`${BULL_BOARD_PATH}/*`, toBoard);
  return access;
}
