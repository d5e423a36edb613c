import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Replies (chunks from the target) received so far, delayed or not. */
  replies(): number;
  /** Starts forwarding on `port` (again, after `close()` freed it). */
  listen(): Promise<void>;
  /** Cuts every open connection, both ways: the target "went away" for the clients. */
  cutAll(): void;
  /**
   * Stops passing bytes either way without closing anything: connections stay open but silent
   * (a hung server, a half-open network path), and new ones are accepted but get no answer.
   * What arrives meanwhile is held, in order.
   */
  pause(): void;
  /** Passes on what was held (to connections still open) and forwards normally again. */
  resume(): void;
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
 * proxy.pause();  // Postgres stops answering; proxy.resume() lets it answer again
 */
export async function startTcpProxy(options: { targetPort: number; targetHost?: string; replyDelayMs?: number; port?: number; listenNow?: boolean }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let replies = 0;
  let paused = false;
  const held: (() => void)[] = [];
  const pass = (write: () => void) => (paused ? held.push(write) : write());
  const server = createServer((socket) => {
    const upstream = connect(options.targetPort, options.targetHost ?? '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk) => pass(() => upstream.writable && upstream.write(chunk)));
    upstream.on('data', (chunk) => {
      replies++;
      const reply = () => socket.writable && socket.write(chunk);
      if (!options.replyDelayMs) pass(reply);
      else setTimeout(() => pass(reply), options.replyDelayMs);
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
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const write of held.splice(0)) write();
    },
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
