import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const clientRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The `jobs` CLI from its sources as one Node ESM file in a temp dir (commander included), so the
 * CLI tests run it as a child process without a `tsx` start-up per call or touching dist/.
 * (The built bin itself is run by dist.test.ts.)
 */
export async function bundleCli(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-cli-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    root: clientRoot,
    ssr: { noExternal: true, target: 'node' },
    build: { ssr: 'src/cli/main.ts', outDir: dir, emptyOutDir: false, minify: false, target: 'node20', rollupOptions: { output: { entryFileNames: 'jobs.mjs' } } },
  });
  return { dir, file: join(dir, 'jobs.mjs') };
}

/**
 * The library as a browser ES module (`createJobsClient` and friends) in a temp dir: what a web
 * app's bundler would ship. Fails if anything in it needs Node.
 */
export async function bundleForBrowser(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-client-browser-'));
  await build({
    configFile: false,
    logLevel: 'warn',
    root: clientRoot,
    build: {
      lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'jobs-client.js' },
      outDir: dir,
      emptyOutDir: false,
      minify: false,
      target: 'es2022',
    },
  });
  return { dir, file: join(dir, 'jobs-client.js') };
}
