/**
 * A throwaway redis-server for the bench (no persistence, free loopback port, temp folder), so
 * its INFO commandstats and MONITOR show the bench's traffic alone. Same settings as
 * scripts/lib/private-redis.ts, without importing the `@jobs/shared` barrel: the bench then only
 * loads the modules it measures.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/lib/free-port.js';

export interface RedisServer {
  url: string;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s) and removes its folder. Safe to call more than once. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 250, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function startRedisServer(bin = 'redis-server', readyTimeoutMs = 5_000): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-bench-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--daemonize', 'no'];
  // Own process group: a Ctrl-C in the terminal must not kill it before the bench has cleaned up.
  const proc = spawn(bin, args, { cwd: dir, detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    proc.once('error', () => resolve());
    proc.once('exit', () => resolve());
  });
  const killOnExit = () => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', killOnExit);
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })());
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answers(url))) {
    if (proc.exitCode !== null || proc.pid === undefined || Date.now() > deadline) {
      await stop();
      throw new Error(`${bin} did not answer on ${url} within ${readyTimeoutMs} ms (is it installed? is the port free?)`);
    }
    await sleep(50);
  }
  return { url, pid: proc.pid!, stop };
}
