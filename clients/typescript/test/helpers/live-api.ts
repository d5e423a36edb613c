import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createWorker, jobHandlers, type HandlerMap, type JobWorker } from '../../../../shared/src/index.js';
import { createTestApp, mintToken, type TestApp } from '../../../../services/api/test/helpers/test-app.js';
import { captureLogger, TEST_REDIS_URL } from '../../../../test/helpers/index.js';

export interface LiveApi {
  /** The real API app (real Redis under its own prefix, its own Postgres schema). */
  t: TestApp;
  /** `http://127.0.0.1:<port>`: the app served on a real socket. */
  url: string;
  /** A `jobs:admin` token when started with `auth: true`. */
  token: string | undefined;
  /** Jobs in the default queue, in any state. */
  jobCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The API in-process and over a real socket, optionally with auth and an in-process worker
 * running the same handlers (default: the built-in ones) for `waitForJob`.
 */
export async function startLiveApi(options: { auth?: boolean; worker?: boolean; env?: Record<string, string>; handlers?: HandlerMap } = {}): Promise<LiveApi> {
  const handlers = options.handlers ?? jobHandlers;
  const t = await createTestApp({ auth: options.auth ?? false, handlers, ...(options.env ? { env: options.env } : {}) });
  let worker: JobWorker | undefined;
  let server: Server | undefined;
  try {
    if (options.worker) worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: captureLogger('warn').log });
    server = await listen(t.app.fetch);
  } catch (err) {
    await worker?.close();
    await t.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const queue = t.deps.jobs.queue;
  return {
    t,
    url: `http://127.0.0.1:${port}`,
    token: options.auth ? await mintToken({ scope: 'jobs:admin' }) : undefined,
    jobCount: async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0),
    async close() {
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        server!.closeAllConnections();
      });
      await worker?.close();
      await t.close();
    },
  };
}

function listen(fetch: Parameters<typeof serve>[0]['fetch']): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    server.once('error', reject);
    server.once('listening', () => resolve(server));
  });
}
