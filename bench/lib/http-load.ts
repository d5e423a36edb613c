/**
 * Runs autocannon in a forked child process (bench/lib/autocannon-child.ts), so the load
 * generator has its own event loop instead of sharing the measured server's. While the measured
 * part runs, this process records its own CPU time and event-loop utilisation: the server's cost.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface LoadSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  seconds: number;
  /** Unreported run just before, same connections (0 = none). */
  warmupSeconds: number;
}

/** What the child reports of one autocannon run. */
export interface LoadSummary {
  seconds: number;
  requests: number;
  status2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  resets: number;
  mismatches: number;
  /** 2xx latencies, whole ms (autocannon's histogram resolution). */
  latency: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
}

export type ChildMessage =
  | { kind: 'warmed'; warmup: LoadSummary }
  | { kind: 'result'; result: LoadSummary; cpuUs: number }
  | { kind: 'failed'; error: string };

export interface LoadResult extends LoadSummary {
  warmup: LoadSummary | undefined;
  /** CPU (user + system) of this process, i.e. the server, during the measured part. */
  serverCpuUs: number;
  /** Event-loop utilisation of this process during the measured part (1 = never idle). */
  serverElu: number;
  /** CPU of the autocannon child during the measured part (its own accounting). */
  loadGenCpuUs: number;
}

const CHILD = fileURLToPath(new URL('./autocannon-child.ts', import.meta.url));
const running = new Set<ChildProcess>();

/** Kills running load generators (after an interrupt). */
export function killLoadGenerators(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * Forks the child with this process's loader flags (tsx), minus any profiling flags, and
 * resolves with its result. The server under test must run in this process. `onMeasuring` is
 * called when the measured part starts (after the warm-up).
 */
export function runLoad(spec: LoadSpec, onMeasuring?: () => void): Promise<LoadResult> {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--prof'));
  const child = fork(CHILD, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  running.add(child);
  return new Promise((resolve, reject) => {
    let warmup: LoadSummary | undefined;
    let cpu: NodeJS.CpuUsage | undefined;
    let elu: EventLoopUtilization | undefined;
    let settled = false;
    const startMeasuring = () => {
      onMeasuring?.();
      cpu = process.cpuUsage();
      elu = performance.eventLoopUtilization();
    };
    if (spec.warmupSeconds === 0) startMeasuring();
    child.on('message', (raw) => {
      const msg = raw as ChildMessage;
      if (msg.kind === 'warmed') {
        warmup = msg.warmup;
        startMeasuring();
      } else if (msg.kind === 'result') {
        const { user, system } = process.cpuUsage(cpu);
        const serverElu = performance.eventLoopUtilization(elu).utilization;
        settled = true;
        resolve({ ...msg.result, warmup, serverCpuUs: user + system, serverElu, loadGenCpuUs: msg.cpuUs });
      } else {
        settled = true;
        reject(new Error(`autocannon child: ${msg.error}`));
      }
    });
    child.on('error', (err) => {
      settled = true;
      reject(err);
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (!settled) reject(new Error(`autocannon child exited (${signal ?? code}) without a result`));
    });
  });
}
