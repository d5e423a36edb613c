import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerMap } from '../../../shared/src/index.js';
import { createTestApp } from './helpers/test-app.js';
import { openApiTestHandlers } from './helpers/openapi-handlers.js';

const root = resolve(import.meta.dirname, '../../..');
const redocly = join(root, 'node_modules/.bin/redocly');

type LintReport = { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }> };

/** `redocly lint` (the repo's redocly.yaml) over the document the app serves; its exit code and JSON report. */
async function lint(dir: string, handlers?: HandlerMap): Promise<{ code: number; report: LintReport; stderr: string }> {
  const t = await createTestApp(handlers ? { handlers } : {});
  const file = join(dir, `openapi-${handlers ? 'custom' : 'default'}.json`);
  try {
    const res = await t.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    await writeFile(file, await res.text());
  } finally {
    await t.close();
  }
  const run = promisify(execFile)(redocly, ['lint', '--config', join(root, 'redocly.yaml'), '--format', 'json', file], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const { code, stdout, stderr } = await run.then(
    (out) => ({ code: 0, ...out }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
  return { code, report: JSON.parse(stdout) as LintReport, stderr };
}

const summary = (report: LintReport) => report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);

describe('OpenAPI document passes @redocly/cli lint (recommended rules, redocly.yaml)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the built-in handlers: exit 0, no errors, no warnings', async () => {
    const { code, report, stderr } = await lint(dir);
    expect(summary(report), stderr).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(code).toBe(0);
  });

  it('a deployment with odd handlers (recursive, non-object, unrenderable and oddly named payloads): exit 0, no errors', async () => {
    const { code, report } = await lint(dir, openApiTestHandlers);
    expect(summary(report)).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(code).toBe(0);
  });
});
