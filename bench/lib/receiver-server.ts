/**
 * Child process of bench/lib/receiver-child.ts: a webhook receiver that answers 200 `ok` as
 * soon as a request's body has arrived (node:http, 127.0.0.1, free port), so it never shares the
 * worker's event loop or CPU accounting. Talks to its parent over IPC only:
 *   → { kind: 'listening', port, pid }                once serving
 *   ← { kind: 'stats' }  → { kind: 'stats', … }        request count, own CPU, the last request
 * Exits when its parent goes away or on SIGTERM. Not meant to be run by hand.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceiverMessage, ReceiverRequest } from './receiver-child.js';

if (!process.send) throw new Error('receiver-server must be started with an IPC channel (bench/lib/receiver-child.ts)');
const send = (msg: ReceiverMessage) => process.send!(msg);

let requests = 0;
let connections = 0;
let last: { headers: IncomingHttpHeaders; body: string } | undefined;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    requests++;
    // The last request is kept so the bench can verify one signature per run.
    last = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
});
server.on('connection', () => connections++);

process.on('message', (msg: ReceiverRequest) => {
  if (msg.kind === 'stats') {
    const { user, system } = process.cpuUsage();
    send({ kind: 'stats', requests, connections, cpuUs: user + system, last });
  }
});

const shutdown = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000).unref();
};
process.once('disconnect', shutdown);
process.once('SIGTERM', shutdown);

server.listen(0, '127.0.0.1', () => {
  send({ kind: 'listening', port: (server.address() as AddressInfo).port, pid: process.pid });
});
