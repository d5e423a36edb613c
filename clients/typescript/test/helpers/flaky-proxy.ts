import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with request number `n` (0-based) to a path. */
export type ProxyAction =
  | { kind: 'forward' }
  /** Answer this status without forwarding (the API never sees it). */
  | { kind: 'answer'; status: number; headers?: Record<string, string> }
  /** Forward (the API does the work), then answer this status instead of the API's answer. */
  | { kind: 'forward-then-answer'; status: number; headers?: Record<string, string> }
  /** Forward, then cut the connection without answering (the API died before replying). */
  | { kind: 'forward-then-reset' };

export interface SeenRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
}

export interface FlakyProxy {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server in front of the API that misbehaves on cue: `decide` picks an action per request
 * (given how many requests came before), and every request is recorded.
 */
export async function startFlakyProxy(target: string, decide: (req: SeenRequest, n: number) => ProxyAction): Promise<FlakyProxy> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: SeenRequest = { method: req.method!, path: req.url!, idempotencyKey: req.headers['idempotency-key'] as string | undefined };
    const action = decide(record, seen.length);
    seen.push(record);
    if (action.kind === 'answer') {
      res.writeHead(action.status, { 'content-type': 'application/problem+json', ...action.headers });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Flaky', status: action.status }));
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers.set(k, v);
    const upstream = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (action.kind === 'forward-then-reset') {
      res.socket?.destroy();
      return;
    }
    if (action.kind === 'forward-then-answer') {
      res.writeHead(action.status, { 'content-type': 'application/problem+json', ...action.headers });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Flaky', status: action.status }));
      return;
    }
    res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([k]) => k !== 'content-length' && k !== 'transfer-encoding')));
    res.end(body);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
