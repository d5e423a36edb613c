import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// SPEC §16: "@jobs/shared exports a small, documented root … and keeps internals behind subpath exports".
const repo = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Every name the root module exports, types included, as the TypeScript checker sees it. */
function rootExports(): string[] {
  const entry = join(repo, 'shared/src/index.ts');
  const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(symbol).map((s) => s.getName()).sort();
}

/** The names docs/library.md lists: the backticked identifiers in the first column of its tables, above the subpath section. */
function documentedNames(): string[] {
  const doc = readFileSync(join(repo, 'docs/library.md'), 'utf8').split('## Subpath exports')[0]!;
  const names = new Set<string>();
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const firstCell = line.split('|')[1]!;
    for (const [, code] of firstCell.matchAll(/`([^`]+)`/g)) names.add(/^[A-Za-z_$][\w$]*/.exec(code!)![0]);
  }
  return [...names].sort();
}

describe('the public API of @jobs/shared', () => {
  it('the root exports exactly the names docs/library.md documents, and stays small', () => {
    const exported = rootExports();
    expect(exported).toEqual(documentedNames());
    expect(exported.length).toBeLessThan(60);
    for (const internal of ['applyPlan', 'planReconcile', 'canonical', 'makeEnvelope', 'createDatabase', 'loadConfig', 'createLogger']) {
      expect(exported).not.toContain(internal);
    }
  });

  it('every subpath in package.json exists, is documented, and deep imports of files are refused', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'shared/package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
    const doc = readFileSync(join(repo, 'docs/library.md'), 'utf8');
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.');
    expect(subpaths.length).toBeGreaterThan(5);
    for (const sub of subpaths) {
      expect(doc).toContain('`@jobs/shared/' + sub.slice(2) + '`');
      expect(readFileSync(join(repo, 'shared', pkg.exports[sub]!.development!), 'utf8').length).toBeGreaterThan(0);
    }
    const attempt = run(process.execPath, ['--conditions=development', '--input-type=module', '-e', "await import('@jobs/shared/src/jobs/envelope.ts')"], { cwd: repo });
    await expect(attempt).rejects.toMatchObject({ stderr: expect.stringContaining('ERR_PACKAGE_PATH_NOT_EXPORTED') });
  });

  it('an application written against the root alone compiles (test/fixtures/external-app), and an internal imported from the root does not', async () => {
    // Under node_modules/.cache: inside the repo, so '@jobs/shared' and @types/node resolve as in an
    // app's own tree, yet outside what vitest and the typecheck pick up if a run is killed midway.
    const cache = join(repo, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'jobs-public-api-'));
    try {
      // Control: an internal name imported from the root must be reported, so the check can fail.
      const broken = join(dir, 'broken.ts');
      writeFileSync(broken, "import { makeEnvelope } from '@jobs/shared';\nexport const e = makeEnvelope;\n");
      const app = join(repo, 'test/fixtures/external-app/app.ts');
      const tsconfig = {
        extends: join(repo, 'tsconfig.base.json'),
        compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, customConditions: ['development'] },
        files: [app, broken],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = join(repo, 'node_modules/typescript/bin/tsc');
      const output = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: repo }).then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      );
      const errors = output.split('\n').filter((line) => line.includes('error TS'));
      expect(errors.filter((line) => line.includes('external-app')), 'the app needs nothing outside the root').toEqual([]);
      expect(errors.some((line) => line.includes('broken.ts') && line.includes('makeEnvelope'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
