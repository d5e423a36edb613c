import { execFile } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const clientDir = join(root, 'clients/typescript');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Files that differ between two trees (missing on either side included). */
async function differing(committed: string, fresh: string): Promise<string[]> {
  const [a, b] = await Promise.all([filesUnder(committed), filesUnder(fresh)]);
  const out: string[] = [];
  for (const file of new Set([...a, ...b])) {
    const [x, y] = await Promise.all([readFile(join(committed, file)).catch(() => undefined), readFile(join(fresh, file)).catch(() => undefined)]);
    if (!x || !y || !x.equals(y)) out.push(file);
  }
  return out.sort();
}

// SPEC §16: CI regenerates the client from the live app's document and fails when the committed
// one is out of date (a route, schema or handler changed without `npm run generate:client`).
describe('the committed client matches the API', () => {
  let out: string | undefined;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('regenerating from /api/openapi.json gives byte-for-byte the committed openapi.json and src/generated/', async () => {
    out = await mkdtemp(join(tmpdir(), 'jobs-client-drift-'));
    await promisify(execFile)(process.execPath, ['--conditions=development', '--import', 'tsx', 'scripts/generate-client.ts', '--out', out], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } });
    const stale = [
      ...((await differing(join(clientDir, 'src/generated'), join(out, 'generated'))).map((f) => `clients/typescript/src/generated/${f}`)),
      ...((await readFile(join(clientDir, 'openapi.json'), 'utf8')) === (await readFile(join(out, 'openapi.json'), 'utf8')) ? [] : ['clients/typescript/openapi.json']),
    ];
    expect(stale, `the committed client is out of date; run \`npm run generate:client\` and commit:\n  ${stale.join('\n  ')}`).toEqual([]);
  }, 300_000);
});
