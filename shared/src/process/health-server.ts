import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { checkReadiness, readinessBody, type ReadinessCheck } from './readiness.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process is up), `/readyz` (every check answers; 503 naming the ones that
 * do not) and, given a registry, `/metrics` (Prometheus text) for services without an HTTP API
 * of their own (worker, scheduler).
 *
 * @example
 * await startHealthServer(8001, { redis: () => redis.ping() }, { metrics: createMetricsRegistry('worker') });
 */
export async function startHealthServer(
  port: number,
  checks: Record<string, ReadinessCheck>,
  options: { host?: string; metrics?: Registry } = {},
): Promise<HealthServer> {
  const { host = '0.0.0.0', metrics } = options;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const report = await checkReadiness(checks);
      return send(res, report.ready ? 200 : 503, readinessBody(report));
    }
    if (path === '/metrics' && metrics) {
      res.writeHead(200, { 'content-type': metrics.contentType });
      return res.end(await metrics.metrics());
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
