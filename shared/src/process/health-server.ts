import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A named readiness check: resolves when the dependency answers, rejects when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process is up) and `/readyz` (every check answers; 503 naming the ones that
 * do not) for services without an HTTP API of their own (worker, scheduler).
 *
 * @example
 * await startHealthServer(8001, { redis: () => redis.ping() });
 */
export async function startHealthServer(port: number, checks: Record<string, ReadinessCheck>, host = '0.0.0.0'): Promise<HealthServer> {
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2_000);
            return [name, 'ok'] as const;
          } catch {
            return [name, 'down'] as const;
          }
        }),
      );
      const down = results.filter(([, s]) => s === 'down').map(([n]) => n);
      return send(res, down.length ? 503 : 200, { status: down.length ? 'unavailable' : 'ok', checks: Object.fromEntries(results), ...(down.length ? { down } : {}) });
    }
    send(res, 404, { type: 'about:blank', title: 'Not Found', status: 404 }, 'application/problem+json');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: import('node:http').ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
