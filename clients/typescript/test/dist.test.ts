import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProduction } from '../../../test/deploy/lib/deployment.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const node = (args: string[]) => promisify(execFile)(process.execPath, args, { cwd: root });

// SPEC §16: "The root `npm run build` builds it, so after `npm ci && npm run build` plain `node`
// can import it and run the bin."
describe('@jobs/client after the root build', () => {
  beforeAll(() => buildProduction(), 240_000);

  it('plain node imports @jobs/client (and its /sdk subpath) from the compiled output', async () => {
    const script = `
      const client = await import('@jobs/client');
      const sdk = await import('@jobs/client/sdk');
      const jobs = client.createJobsClient({ baseUrl: 'http://localhost:8000' });
      console.log(JSON.stringify({
        url: import.meta.resolve('@jobs/client'),
        exports: Object.keys(client).sort(),
        methods: Object.keys(jobs).sort(),
        sdk: Object.values(sdk).filter((v) => typeof v === 'function').length,
      }));`;
    const { stdout } = await node(['--input-type=module', '-e', script]);
    const out = JSON.parse(stdout) as { url: string; exports: string[]; methods: string[]; sdk: number };
    expect(out.url).toMatch(/clients\/typescript\/dist\/index\.js$/);
    expect(out.exports).toEqual(expect.arrayContaining(['createJobsClient', 'JobsApiError', 'JobsNetworkError', 'JobsWaitTimeoutError']));
    expect(out.methods).toEqual(expect.arrayContaining(['enqueue', 'enqueueBatch', 'getJob', 'cancelJob', 'waitForJob', 'cron', 'webhooks']));
    // One function per operation of the document.
    expect(out.sdk).toBeGreaterThan(20);
  });

  it('node runs the bin: jobs --help exits 0, also as the `jobs` npm linked at install time', async () => {
    const { stdout } = await node(['clients/typescript/dist/cli/main.js', '--help']);
    expect(stdout).toContain('Usage: jobs');
    // npm ci links node_modules/.bin/jobs before dist/ exists: the committed, executable bin/jobs.js
    // it points at must work once the build has run.
    const linked = await promisify(execFile)(join(root, 'node_modules/.bin/jobs'), ['--help'], { cwd: root });
    expect(linked.stdout).toContain('Usage: jobs');
  });
});
