import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const readJson = (path: string) => JSON.parse(readFileSync(resolve(root, path), 'utf8')) as Record<string, unknown>;

interface PackageJson {
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  scripts?: Record<string, string>;
}

const rootPackage = readJson('package.json') as PackageJson;
const manifests: [string, PackageJson][] = [['package.json', rootPackage], ...(rootPackage.workspaces ?? []).map((w): [string, PackageJson] => [`${w}/package.json`, readJson(`${w}/package.json`) as PackageJson])];
const lock = readJson('package-lock.json') as { packages: Record<string, { version?: string; hasInstallScript?: boolean; link?: boolean }> };

/** The version a workspace resolves `name` to: its own nested copy if it has one, else the hoisted one. */
const locked = (name: string, workspace = '') => lock.packages[`${workspace ? `${workspace}/` : ''}node_modules/${name}`]?.version ?? lock.packages[`node_modules/${name}`]?.version;
const workspaceOf = (file: string) => (file === 'package.json' ? '' : file.replace(/\/package\.json$/, ''));

describe('dependencies', () => {
  it('every dependency of every workspace is pinned to an exact version that the lockfile holds', () => {
    for (const [file, manifest] of manifests) {
      for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
        if (name.startsWith('@jobs/')) continue;
        expect(range, `${file}: ${name}`).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
        expect(locked(name, workspaceOf(file)), `${file}: ${name} in package-lock.json`).toBe(range);
      }
    }
  });

  it('one version of each dependency across workspaces (bull-board packages equal to each other)', () => {
    const seen = new Map<string, string>();
    for (const [file, manifest] of manifests) {
      for (const [name, version] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
        if (seen.has(name)) expect(version, `${file}: ${name}`).toBe(seen.get(name));
        seen.set(name, version);
      }
    }
    expect(seen.get('@bull-board/api')).toBe(seen.get('@bull-board/hono'));
  });

  it('the patch releases of issue 13 are in (no older bullmq, hono, ioredis, jose, kysely, undici, cron-parser)', () => {
    const atLeast: Record<string, string> = {
      bullmq: '6.7.6',
      hono: '4.13.23',
      '@hono/node-server': '2.1.11',
      ioredis: '6.1.0',
      jose: '6.2.19',
      kysely: '0.28.20',
      undici: '7.30.3',
      'cron-parser': '5.10.7',
    };
    const parts = (v: string) => v.split('.').map(Number);
    for (const [name, min] of Object.entries(atLeast)) {
      // Our own copy (bullmq pins its own cron-parser, which may be older; that copy is bullmq's business).
      const version = locked(name, 'shared') ?? '0.0.0';
      const [a, b] = [parts(version), parts(min)];
      const cmp = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
      expect(cmp, `${name} ${version} >= ${min}`).toBeGreaterThanOrEqual(0);
    }
  });

  it("every package with an install script has an explicit decision in allowScripts, so npm ci does not warn", () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(rootPackage.allowScripts, name).toHaveProperty([name]);
  });

  it('npm install-scripts ls (npm itself) reports nothing left to decide', () => {
    const out = execFileSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8' });
    expect(out).not.toMatch(/not yet covered/);
  });

  it('npm run deps:check exists and prints a report', () => {
    expect(rootPackage.scripts?.['deps:check']).toMatch(/deps-check/);
  });
});
