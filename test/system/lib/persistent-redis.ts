import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../../scripts/lib/free-port.js';
import { sleepUntil } from '../../helpers/index.js';

/**
 * A private redis-server with an append-only file fsynced on every write, on a fixed port, so it
 * can be killed and started again where every client expects it, with the data it acknowledged.
 * (`scripts/lib/private-redis.ts` starts one without persistence.)
 */
export class PersistentRedis {
  private proc: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private out = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<PersistentRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'jobs-system-redis-'));
    const redis = new PersistentRedis(await freePort(), dir);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  /** Starts redis-server on the same port and folder (so it replays its AOF) and waits for PING. */
  async start(): Promise<void> {
    if (this.running) throw new Error('redis is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
    args.push('--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning');
    const proc = spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-20_000)));
    proc.stderr!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-20_000)));
    this.proc = proc;
    this.exited = once(proc, 'exit');
    await sleepUntil(
      async () => {
        if (!this.running) throw new Error(`redis-server exited: ${this.out}`);
        const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
        probe.on('error', () => {});
        try {
          await probe.connect();
          // While it loads the AOF it answers LOADING errors; ready means PONG.
          return (await probe.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 15_000, intervalMs: 50, message: `redis-server on ${this.port}` },
    );
  }

  /** SIGKILL: no shutdown save; what is acknowledged must already be in the fsynced AOF. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.proc!.kill('SIGKILL');
    await this.exited;
  }

  /** Stops it for good and removes its folder. */
  async destroy(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}
