import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Signals the process, or its whole group when it was started `detached` (npm → sh → node). */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  cwd?: string;
  env: Record<string, string>;
  /** Only `env` (plus PATH and HOME), as in a container: nothing leaks in from the test runner (APP_ENV=test). */
  cleanEnv?: boolean;
  /** Its own process group, so `kill` reaches the grandchildren too. */
  detached?: boolean;
}

/** Runs `command` as a real child process, collecting its output. */
export function spawnCommand(command: string[], options: SpawnOptions): Child {
  const [file, ...args] = command;
  const base = options.cleanEnv ? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } : process.env;
  const proc = spawn(file!, args, {
    cwd: options.cwd ?? root,
    env: { ...base, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    proc,
    output: () => out,
    exited,
    kill(signal = 'SIGTERM') {
      try {
        // The group may outlive its leader (npm exits before the node it started).
        if (options.detached) process.kill(-proc.pid!, signal);
        else if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Runs a TypeScript file under tsx in a real child process, with the sources of @jobs/shared.
 * Used where several processes matter (shutdown, crash, cross-process signals).
 */
export function spawnTs(file: string, env: Record<string, string>, args: string[] = []): Child {
  return spawnCommand([process.execPath, '--conditions=development', '--import', 'tsx', file, ...args], { env });
}
