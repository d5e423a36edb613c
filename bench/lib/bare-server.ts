/**
 * The baseline for the API: a plain Hono app with one route answering `{}`, served by
 * @hono/node-server exactly as services/api/src/api-service.ts serves the API (`serve` with
 * node:http's default server, HTTP/1.1).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

export const BARE_PATH = '/bare';

export interface BareServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startBareServer(host: string): Promise<BareServer> {
  const app = new Hono();
  app.post(BARE_PATH, (c) => c.json({}));
  return serveApp(app, host);
}

/** Serves `app` on a free port of `host` as the API is served; `close()` drains, then cuts after 2 s. */
export async function serveApp(app: Hono, host: string): Promise<BareServer> {
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
