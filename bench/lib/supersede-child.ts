/** Starts bench/lib/supersede-worker.ts in a real child process and follows its event lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BENCH_LINE_MARK, type ChildEvent } from './supersede-handlers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_FILE = 'bench/lib/supersede-worker.ts';

export interface ChildSettings {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockMs: number;
}

export interface WorkerChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The child's `ready` line: its clocks right after the worker started taking jobs. */
  readonly ready: Extract<ChildEvent, { ev: 'ready' }>;
  /** The event `ev` of job `jobId` (already seen or the next one), or a rejection after `timeoutMs`. */
  waitFor<E extends Exclude<ChildEvent['ev'], 'ready'>>(ev: E, jobId: string, timeoutMs?: number): Promise<Extract<ChildEvent, { ev: E }>>;
  /** How many events `ev` were seen so far. */
  count(ev: ChildEvent['ev']): number;
  /** Resolves once `count(ev) >= n`. */
  waitForCount(ev: ChildEvent['ev'], n: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s. Safe to call more than once. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
/** SIGKILLs every child still running (synchronous: usable from an 'exit' handler). */
export function killChildren(): void {
  for (const proc of live) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}
process.once('exit', killChildren);

export async function startWorkerChild(s: ChildSettings, readyTimeoutMs = 30_000): Promise<WorkerChild> {
  const proc = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', CHILD_FILE], {
    cwd: root,
    env: { ...process.env, REDIS_URL: s.redisUrl, BENCH_PREFIX: s.prefix, BENCH_CONCURRENCY: String(s.concurrency), BENCH_LOCK_MS: String(s.lockMs) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(proc);
  const exited = once(proc, 'exit').then(([code, signal]) => {
    live.delete(proc);
    return (code ?? signal) as number | string;
  });
  let stderrTail = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4_000);
    process.stderr.write(`  [worker child] ${d.toString()}`);
  });

  const seen = new Map<string, ChildEvent>();
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const exitWaiters = new Set<() => void>();
  proc.once('exit', () => {
    for (const onExit of [...exitWaiters]) onExit();
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (!line.startsWith(BENCH_LINE_MARK)) return;
    const event = JSON.parse(line.slice(BENCH_LINE_MARK.length)) as ChildEvent;
    seen.set(event.ev === 'ready' ? 'ready' : `${event.ev}:${event.jobId}`, event);
    counts.set(event.ev, (counts.get(event.ev) ?? 0) + 1);
    for (const check of [...waiters]) check();
  });

  /** Resolves with `get()` once it is defined; rejects after `timeoutMs` or when the child exits. */
  function until<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = get();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => (done(), reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const onExit = () => (done(), reject(new Error(`worker child exited while waiting for ${what}: ${stderrTail.trim().split('\n').at(-1) ?? ''}`)));
      function done() {
        clearTimeout(timer);
        waiters.delete(check);
        exitWaiters.delete(onExit);
      }
      if (proc.exitCode !== null || proc.signalCode !== null) return onExit();
      waiters.add(check);
      exitWaiters.add(onExit);
      check();
    });
  }

  const ready = (await until(() => seen.get('ready'), readyTimeoutMs, 'the worker child to be ready')) as Extract<ChildEvent, { ev: 'ready' }>;
  let stopping: Promise<void> | undefined;
  return {
    proc,
    pid: proc.pid!,
    ready,
    waitFor: (ev, jobId, timeoutMs = 10_000) => until(() => seen.get(`${ev}:${jobId}`) as never, timeoutMs, `'${ev}' of job ${jobId}`),
    count: (ev) => counts.get(ev) ?? 0,
    waitForCount: (ev, n, timeoutMs = 30_000) => until(() => ((counts.get(ev) ?? 0) >= n ? true : undefined), timeoutMs, `${n} '${ev}' events`).then(() => undefined),
    stop: () =>
      (stopping ??= (async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000).unref();
        await exited;
        clearTimeout(killer);
      })()),
  };
}
