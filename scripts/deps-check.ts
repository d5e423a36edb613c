/**
 * `npm run deps:check`: what is behind the registry, per workspace, with the reason a package is
 * held back where there is one. Prints; never installs. Exit code 0 even when something is behind
 * (it is a report, not a gate); 2 when npm itself could not answer (no registry).
 */
import { execFileSync } from 'node:child_process';

/** Packages deliberately not on their newest version, and why (keep README "Upgrading" in step). */
const HELD: Record<string, string> = {
  '@bull-board/api': 'must equal @bull-board/hono, which has no release past 9.10.1',
  '@electric-sql/pglite': '0.6 is a 0.x minor (breaking by semver); move with a migration test of the local database',
  kysely: '0.29 needs Node 22',
  undici: '8.x needs Node 22.19',
  vitest: '5.x does not support Node 20',
  typescript: '7 has no compiler API for tooling',
};

interface Outdated {
  current?: string;
  wanted: string;
  latest: string;
  dependent: string;
}

function outdated(): Record<string, Outdated | Outdated[]> {
  try {
    return JSON.parse(execFileSync('npm', ['outdated', '--workspaces', '--include-workspace-root', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) || '{}');
  } catch (err) {
    // `npm outdated` exits 1 when something is outdated; its JSON is still on stdout.
    const stdout = (err as { stdout?: string }).stdout;
    if (stdout) return JSON.parse(stdout);
    console.error(`npm outdated failed: ${(err as Error).message}`);
    process.exit(2);
  }
}

const rows = Object.entries(outdated()).flatMap(([name, entry]) => (Array.isArray(entry) ? entry : [entry]).map((e) => ({ name, ...e })));
if (!rows.length) {
  console.log('every dependency is on its newest version');
} else {
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows.sort((a, b) => a.name.localeCompare(b.name))) {
    const held = HELD[r.name] ? `  held: ${HELD[r.name]}` : '';
    console.log(`${r.name.padEnd(width)}  ${(r.current ?? '-').padEnd(9)} → ${r.latest.padEnd(9)} (${r.dependent})${held}`);
  }
  const fresh = rows.filter((r) => !HELD[r.name]);
  console.log(`\n${rows.length} behind, ${fresh.length} not held back on purpose`);
}
