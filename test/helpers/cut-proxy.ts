import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CutProxy {
  port: number;
  /**
   * From now on, pass at most `bytes` more bytes from the client to the server, then cut every
   * connection and stop listening: the server is gone mid-request (a crash, a network split),
   * with part of a write delivered and the rest not. With `from`, counting starts where `from`
   * appears for the `nth` time (default 1) in what the client sends (e.g. `MULTI`, in either
   * case; not found when split across two chunks), everything before it passes.
   */
  cutAfter(bytes: number, from?: string, nth?: number): void;
  /** Resolves once the cut has happened. */
  readonly cut: Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP forwarder to a real server (Redis) that dies part-way through what a client sends, for
 * tests of what a half-delivered request leaves behind (see `cutAfter`).
 *
 * @example
 * const proxy = await startCutProxy(6379);
 * proxy.cutAfter(64 * 1024); // the next 64 KiB get through, then Redis "goes away"
 */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let budget = Number.POSITIVE_INFINITY;
  let marker: Buffer | undefined;
  let markersLeft = 0;
  let onCut: () => void = () => {};
  const cut = new Promise<void>((resolve) => (onCut = resolve));
  const server: Server = createServer((socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk: Buffer) => {
      if (marker) {
        let at = -1;
        for (const form of [marker, Buffer.from(marker.toString().toLowerCase())]) {
          for (let i = chunk.indexOf(form); i !== -1 && markersLeft > 0; i = chunk.indexOf(form, i + 1)) {
            if (--markersLeft === 0) at = i;
          }
        }
        if (at === -1) {
          upstream.write(chunk);
          return;
        }
        // The bytes before the marker pass free; the budget counts from the marker on.
        budget += at;
        marker = undefined;
      }
      if (chunk.length <= budget) {
        budget -= chunk.length;
        upstream.write(chunk);
        return;
      }
      upstream.write(chunk.subarray(0, budget), () => cutNow());
      budget = 0;
    });
    upstream.on('data', (chunk) => socket.writable && socket.write(chunk));
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  const cutNow = () => {
    server.close();
    for (const s of sockets) s.destroy();
    sockets.clear();
    onCut();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cutAfter(bytes, from, nth = 1) {
      budget = bytes;
      marker = from === undefined ? undefined : Buffer.from(from);
      markersLeft = nth;
    },
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}
