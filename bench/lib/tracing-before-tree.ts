/**
 * "Today's code before tracing" for bench/tracing.ts: a detached `git worktree` of the commit
 * before tracing landed, sharing this checkout's installed packages through symlinks, except
 * the workspace packages (`@jobs/*`), which point into the worktree so that its services import
 * its own `@jobs/shared`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** The commit before the first tracing commit (found by its subject), or BENCH_BEFORE_COMMIT. */
export function commitBeforeTracing(root: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  if (process.env.BENCH_BEFORE_COMMIT) return git('rev-parse', process.env.BENCH_BEFORE_COMMIT);
  const first = git('log', '--reverse', '--format=%H', '--grep=^Tracing (SPEC §15), slice 1', 'HEAD').split('\n')[0];
  if (!first) throw new Error('no tracing commit found in HEAD: set BENCH_BEFORE_COMMIT');
  return git('rev-parse', `${first}^`);
}

/** Makes (or reuses) the worktree at `dir` for `commit`; returns a function that removes it. */
export function prepareBeforeTree(root: string, commit: string, dir: string): () => void {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  if (existsSync(dir)) git('worktree', 'remove', '--force', dir);
  git('worktree', 'add', '--detach', dir, commit);
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === '@jobs' || entry === '.bin') continue;
    symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  mkdirSync(join(modules, '@jobs'));
  for (const [name, path] of [['shared', 'shared'], ['api', 'services/api'], ['worker', 'services/worker'], ['scheduler', 'services/scheduler']] as const) {
    symlinkSync(join(dir, path), join(modules, '@jobs', name));
  }
  // Workspace-local installs (a version differing from the root's).
  for (const ws of ['shared', 'services/api', 'services/worker', 'services/scheduler']) {
    const local = join(root, ws, 'node_modules');
    if (existsSync(local) && !existsSync(join(dir, ws, 'node_modules'))) symlinkSync(local, join(dir, ws, 'node_modules'));
  }
  return () => {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git('worktree', 'prune');
    }
  };
}
