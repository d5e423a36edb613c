/**
 * The floor for the API's single enqueue (issue 15): a Hono app on @hono/node-server, served
 * exactly as services/api/src/api-service.ts serves the API, whose one route does only
 * `JSON.parse` of the body and `queue.add` of the job (same name, envelope and job options as the
 * API's), answering `201 {id}`. No validation, auth, request id, access line or error mapping.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { Hono } from 'hono';
import { makeEnvelope } from '../../shared/src/jobs/index.js';
import { serveApp, type BareServer } from './bare-server.js';

export const MINIMAL_PATH = '/enqueue';

export type MinimalServer = BareServer;

export async function startMinimalEnqueueServer(host: string, queue: Queue, opts: JobsOptions): Promise<MinimalServer> {
  const app = new Hono();
  app.post(MINIMAL_PATH, async (c) => {
    const body = JSON.parse(await c.req.text()) as { handler: string; payload: unknown };
    const job = await queue.add(body.handler, makeEnvelope(body.payload), opts);
    return c.json({ id: job.id }, 201);
  });
  return serveApp(app, host);
}
