import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsc = (project: string) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project, '--pretty', 'false'], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });

// SPEC §16: the payload is typed by the handler, from the document's per-handler union.
describe('typed calls', () => {
  it('right calls compile and wrong payloads, handlers and options are compile errors', async () => {
    const { code, output } = await tsc('clients/typescript/test/fixtures/tsconfig.json');
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 180_000);

  it('negative control: an @ts-expect-error on a right call fails the compile', async () => {
    const { code, output } = await tsc('clients/typescript/test/fixtures/tsconfig.control.json');
    expect(code).not.toBe(0);
    expect(output).toContain('TS2578');
  }, 180_000);
});
