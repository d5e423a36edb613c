/**
 * The Redis key prefixes of one bench run, `<tag>-<pid>-<time>-<n>`: each run of a side gets a
 * fresh one, and all of them are remembered for the final sweep.
 */
export function runPrefixes(tag: string): { runId: string; prefixes: readonly string[]; newPrefix(): string } {
  const runId = `${tag}-${process.pid}-${Date.now().toString(36)}`;
  const prefixes: string[] = [];
  return {
    runId,
    prefixes,
    newPrefix() {
      const prefix = `${runId}-${prefixes.length + 1}`;
      prefixes.push(prefix);
      return prefix;
    },
  };
}
