import { spawnService, type ServiceProcess } from '../../deploy/lib/service-process.js';
import { sleepUntil } from '../../helpers/index.js';
import { root } from './paths.js';

export type ServiceKind = 'api' | 'worker' | 'scheduler';

const ENTRY: Record<ServiceKind, string> = {
  api: 'services/api/src/main.ts',
  worker: 'services/worker/src/main.ts',
  scheduler: 'services/scheduler/src/main.ts',
};

/** The variable that holds each service's HTTP port (health, metrics; the whole API for `api`). */
const PORT_VAR: Record<ServiceKind, string> = { api: 'PORT', worker: 'WORKER_PORT', scheduler: 'SCHEDULER_PORT' };

/**
 * One real service process, started from its TypeScript sources exactly as
 * `node --conditions=development --import tsx services/<kind>/src/main.ts`, with exactly `env`
 * (plus PATH and HOME: nothing leaks in from vitest, whose APP_ENV=test would make the worker
 * start nothing). It can be killed and started again on the same port with the same environment.
 */
export class Service {
  /** The current process (a new one after each `start()`). */
  proc!: ServiceProcess;
  /** Output of every earlier incarnation, oldest first. */
  readonly previousOutputs: string[] = [];
  private readonly env: Record<string, string>;

  constructor(
    readonly name: string,
    readonly kind: ServiceKind,
    readonly port: number,
    env: Record<string, string>,
  ) {
    this.env = { ...env, [PORT_VAR[kind]]: String(port) };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.proc.pid!;
  }

  get running(): boolean {
    return !!this.proc && this.proc.proc.exitCode === null && this.proc.proc.signalCode === null;
  }

  /** Output of this incarnation. */
  output(): string {
    return this.proc?.output() ?? '';
  }

  /** Output of every incarnation. */
  allOutput(): string {
    return [...this.previousOutputs, this.output()].join('\n');
  }

  /** Starts the process (it must not be running) without waiting for it. */
  spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this.proc) this.previousOutputs.push(this.proc.output());
    this.proc = spawnService([process.execPath, '--conditions=development', '--import', 'tsx', ENTRY[this.kind]], { cwd: root, env: this.env });
  }

  /** Starts the process and waits until `/healthz` answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    this.spawn();
    await this.waitHealthy(timeoutMs);
  }

  /** Polls `/healthz` until 200; fails at once, with the process output, if it exits. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    await sleepUntil(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited (${this.proc.proc.exitCode ?? this.proc.proc.signalCode}) before /healthz answered:\n${this.output()}`);
        return (await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200;
      },
      { timeoutMs, intervalMs: 100, message: `${this.name} /healthz on ${this.port}` },
    );
  }

  /** SIGKILL: the process dies at once, its jobs' locks are left to lapse. Resolves once it is gone. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGKILL');
    await this.proc.exited;
  }

  /** Sends SIGTERM (graceful shutdown) and returns the exit promise (code or signal name). */
  terminate(): Promise<number | string> {
    this.proc.kill('SIGTERM');
    return this.proc.exited;
  }

  /** SIGKILL then start again (same port, same env); resolves when healthy. */
  async restart(): Promise<void> {
    await this.kill9();
    await this.start();
  }

  /** The value of an unlabelled gauge/counter in this service's `/metrics`, or undefined. */
  async metric(name: string): Promise<number | undefined> {
    const text = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.text())
      .catch(() => '');
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }
}
