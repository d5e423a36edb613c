/** Starts bench/lib/receiver-server.ts (a 200-at-once webhook receiver) in its own process. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_FILE = 'bench/lib/receiver-server.ts';

/** Parent → child. */
export type ReceiverRequest = { kind: 'stats' };

/** Child → parent. */
export type ReceiverMessage =
  | { kind: 'listening'; port: number; pid: number }
  | { kind: 'stats'; requests: number; connections: number; cpuUs: number; last: { headers: IncomingHttpHeaders; body: string } | undefined };

export type ReceiverStats = Omit<Extract<ReceiverMessage, { kind: 'stats' }>, 'kind'>;

export interface ReceiverChild {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Totals since the child started (requests answered, connections accepted, its CPU time) and the last request. */
  stats(): Promise<ReceiverStats>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. Safe to call more than once. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of live) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
});

export async function startReceiverChild(readyTimeoutMs = 30_000): Promise<ReceiverChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD_FILE], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(proc);
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      live.delete(proc);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
        await exited;
        clearTimeout(killer);
      }
    })());

  const listening = await new Promise<Extract<ReceiverMessage, { kind: 'listening' }>>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`receiver child not listening within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    const onMessage = (msg: ReceiverMessage) => {
      if (msg.kind !== 'listening') return;
      done();
      resolve(msg);
    };
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`receiver child exited before listening (${code ?? signal})`));
    function done() {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
    }
    function fail(err: Error) {
      done();
      void stop();
      reject(err);
    }
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });

  /** One request at a time: the next 'stats' message answers the oldest pending call. */
  const pending: ((stats: ReceiverStats) => void)[] = [];
  proc.on('message', (msg: ReceiverMessage) => {
    if (msg.kind !== 'stats') return;
    const { kind: _kind, ...stats } = msg;
    pending.shift()?.(stats);
  });

  return {
    pid: listening.pid,
    origin: `http://127.0.0.1:${listening.port}`,
    stats: () =>
      new Promise<ReceiverStats>((resolve, reject) => {
        if (!proc.connected) return reject(new Error('receiver child is gone'));
        pending.push(resolve);
        proc.send({ kind: 'stats' } satisfies ReceiverRequest);
      }),
    stop,
  };
}
