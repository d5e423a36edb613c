import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver that answers 503 to the first delivery of each event (`webhook-id`) and 200
 * to the next, so every event is retried once; it keeps the headers of every request.
 */
export async function startFlakyWebhookReceiver(): Promise<{ url: string; received: { headers: IncomingHttpHeaders; status: number }[]; close(): Promise<void> }> {
  const received: { headers: IncomingHttpHeaders; status: number }[] = [];
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? req.headers['x-webhook-id'] ?? '');
      const status = seen.has(id) ? 200 : 503;
      seen.add(id);
      received.push({ headers: req.headers, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
