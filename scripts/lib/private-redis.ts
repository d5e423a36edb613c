import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '@jobs/shared/redis';
import { freePort } from './free-port.js';

/**
 * True when something speaks Redis at `url` within `timeoutMs`. An error reply (e.g. NOAUTH)
 * counts: a Redis is there, only the credentials are off, and starting another would hide that.
 *
 * @example
 * if (!(await redisAnswers('redis://127.0.0.1:6379'))) console.log('no Redis');
 */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const redis = createRedis(url, 'producer', {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null, // one attempt: this is a probe, not a connection to keep
    enableReadyCheck: false,
  });
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), timeoutMs);
    return true;
  } catch (err) {
    return err instanceof Error && err.name === 'ReplyError';
  } finally {
    redis.disconnect();
  }
}

/** `redis-server` could not be run because it is not on the PATH. */
export class RedisServerNotFoundError extends Error {
  override name = 'RedisServerNotFoundError';
}

/** Nothing answers at the configured Redis and no private one can be started. `message` is one printable line. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  constructor(configuredUrl: string) {
    super(
      `No Redis answers at ${safeHost(configuredUrl)} and redis-server is not on the PATH: ` +
        'install Redis (e.g. `apt-get install redis-server` or `brew install redis`) or set REDIS_URL to a running Redis.',
    );
  }
}

export interface PrivateRedis {
  url: string;
  port: number;
  pid: number;
  /** Its working folder (empty: nothing is persisted); removed by `stop()`. */
  dir: string;
  /** Stops the server and removes its folder. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartPrivateRedisOptions {
  /** The executable, looked up on the PATH (default `redis-server`). */
  bin?: string;
  /** How long to wait for it to answer (default 5 s). */
  readyTimeoutMs?: number;
  /** A fixed port (e.g. to restart a server where clients expect it); default: a free one. */
  port?: number;
}

/**
 * Starts a throwaway redis-server on a free loopback port, with no persistence, in a temp folder.
 * It is killed when this process exits, however it exits short of SIGKILL; call `stop()` for a
 * graceful stop. Throws {@link RedisServerNotFoundError} when the executable is missing.
 *
 * @example
 * const redis = await startPrivateRedis();
 * try { useRedis(redis.url); } finally { await redis.stop(); }
 */
export async function startPrivateRedis(options: StartPrivateRedisOptions = {}): Promise<PrivateRedis> {
  // The free port may be taken between choosing and binding it; a fresh one almost always works.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options.bin ?? 'redis-server', options.readyTimeoutMs ?? 5_000, options.port);
    } catch (err) {
      if (attempt >= 3 || options.port !== undefined || !(err instanceof PortTakenError)) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function launch(bin: string, readyTimeoutMs: number, fixedPort: number | undefined): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-redis-'));
  const port = fixedPort ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  // BullMQ needs noeviction; warnings only, so its banner does not clutter the terminal.
  args.push('--maxmemory-policy', 'noeviction', '--loglevel', 'warning', '--daemonize', 'no');
  // Own process group: a terminal Ctrl-C must not kill it before the worker has closed its connections.
  const proc = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });

  let output = '';
  const keep = (data: Buffer) => (output = (output + data.toString()).slice(-2_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let ended: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('error', (err: NodeJS.ErrnoException) => {
      ended = err.code === 'ENOENT' ? new RedisServerNotFoundError(`${bin} is not on the PATH`) : err;
      resolve();
    });
    proc.once('exit', (code, signal) => {
      ended ??= /already in use/i.test(output)
        ? new PortTakenError(`port ${port} is taken`)
        : new Error(`${bin} exited (${code ?? signal}) before answering: ${lastLine(output)}`);
      resolve();
    });
  });

  // Covers process.exit(), normal exit and uncaught exceptions; only synchronous work runs here.
  const killOnExit = () => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', killOnExit);
      if (proc.exitCode === null && proc.signalCode === null && !ended) {
        proc.kill('SIGTERM');
        const killed = setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
        await exited;
        clearTimeout(killed);
      }
      await rm(dir, { recursive: true, force: true });
    })());

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await redisAnswers(url, 250))) {
    if (ended || Date.now() > deadline) {
      await stop();
      throw ended ?? new Error(`${bin} did not answer on ${url} within ${readyTimeoutMs} ms: ${lastLine(output)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, port, pid: proc.pid!, dir, stop };
}

export type ResolvedRedis = { url: string; source: 'configured' } | { url: string; source: 'private'; server: PrivateRedis };

/**
 * The Redis a local run should use: the configured one if it answers, else a private
 * redis-server. Throws {@link RedisUnavailableError} when there is neither.
 *
 * @example
 * const redis = await resolveRedis(config.redisUrl);
 * if (redis.source === 'private') onExit(() => redis.server.stop());
 */
export async function resolveRedis(configuredUrl: string, options: StartPrivateRedisOptions = {}): Promise<ResolvedRedis> {
  if (await redisAnswers(configuredUrl)) return { url: configuredUrl, source: 'configured' };
  try {
    const server = await startPrivateRedis(options);
    return { url: server.url, source: 'private', server };
  } catch (err) {
    if (err instanceof RedisServerNotFoundError) throw new RedisUnavailableError(configuredUrl);
    throw err;
  }
}

/** host:port only, so a password in the URL never reaches the terminal. */
function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'REDIS_URL';
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
