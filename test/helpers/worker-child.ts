import { spawnTs, type Child } from './child.js';
import { TEST_REDIS_URL } from './redis.js';
import { sleepUntil } from './sleep-until.js';

/**
 * Starts `test/fixtures/worker-process.ts` (all test handlers) in a child process on `prefix`
 * and waits until it takes jobs. The caller kills it (see {@link killAll}).
 */
export async function startWorkerChild(prefix: string, env: Record<string, string> = {}): Promise<Child> {
  const child = spawnTs('test/fixtures/worker-process.ts', { REDIS_URL: TEST_REDIS_URL, TEST_PREFIX: prefix, ...env });
  await sleepUntil(() => child.output().includes('worker-ready') || child.proc.exitCode !== null, { timeoutMs: 20_000, message: 'child worker ready' });
  if (child.proc.exitCode !== null) throw new Error(`worker child exited early:\n${child.output()}`);
  return child;
}

/** SIGKILLs every child still running and waits for them. */
export async function killAll(children: Child[]): Promise<void> {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
}
