import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Replies (chunks from the target) received so far, delayed or not. */
  replies(): number;
  /** Starts forwarding on `port` (again, after `close()` freed it). */
  listen(): Promise<void>;
  /** Cuts every open connection, both ways: the target "went away" for the clients. */
  cutAll(): void;
  /** Cuts the connections and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP forwarder to a real server (Redis, Postgres) for tests of what the network does to a
 * client: connections cut at will, replies held back for `replyDelayMs`, or a server that only
 * appears later (`listenNow: false`, then `listen()` on the port chosen up front).
 *
 * @example
 * const proxy = await startTcpProxy({ targetPort: 5432 });
 * const db = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/test` });
 * proxy.cutAll(); // Postgres "restarted"
 */
export async function startTcpProxy(options: { targetPort: number; targetHost?: string; replyDelayMs?: number; port?: number; listenNow?: boolean }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let replies = 0;
  const server = createServer((socket) => {
    const upstream = connect(options.targetPort, options.targetHost ?? '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      replies++;
      if (!options.replyDelayMs) socket.write(chunk);
      else setTimeout(() => socket.writable && socket.write(chunk), options.replyDelayMs);
    });
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  let port = options.port ?? 0;
  const cutAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const proxy: TcpProxy = {
    get port() {
      return port;
    },
    replies: () => replies,
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          port = (server.address() as { port: number }).port;
          resolve();
        });
      }),
    cutAll,
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
  if (options.listenNow !== false) await proxy.listen();
  return proxy;
}
