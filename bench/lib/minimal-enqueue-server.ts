/**
 * The floor for the API's single enqueue (issue 15): a Hono app on @hono/node-server, served
 * exactly as services/api/src/api-service.ts serves the API, whose one route does only
 * `JSON.parse` of the body and `queue.add` of the job (same name, envelope and job options as the
 * API's), answering `201 {id}`. No validation, auth, request id, access line or error mapping.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { JobsOptions, Queue } from 'bullmq';
import { Hono } from 'hono';
import { makeEnvelope } from '../../shared/src/index.js';

export const MINIMAL_PATH = '/enqueue';

export interface MinimalServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMinimalEnqueueServer(host: string, queue: Queue, opts: JobsOptions): Promise<MinimalServer> {
  const app = new Hono();
  app.post(MINIMAL_PATH, async (c) => {
    const body = JSON.parse(await c.req.text()) as { handler: string; payload: unknown };
    const job = await queue.add(body.handler, makeEnvelope(body.payload), opts);
    return c.json({ id: job.id }, 201);
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: host }) as Server;
    s.once('error', reject);
    s.once('listening', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      })),
  };
}
