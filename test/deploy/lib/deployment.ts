import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { envSchema } from '../../../shared/src/config/index.js';

export const root = fileURLToPath(new URL('../../..', import.meta.url));

export type ServiceName = 'api' | 'worker' | 'scheduler';

/**
 * What each service is, as the deployment files must reflect it: the variable and default of its
 * HTTP port (SPEC §2), and the metric families its `/metrics` must export (SPEC §10).
 */
export const SERVICES: Record<ServiceName, { portVar: 'PORT' | 'WORKER_PORT' | 'SCHEDULER_PORT'; port: number; metrics: string[] }> = {
  api: { portVar: 'PORT', port: 8000, metrics: ['queue_jobs', 'http_server_request_duration_seconds', 'http_server_active_requests', 'process_start_time_seconds'] },
  worker: {
    portVar: 'WORKER_PORT',
    port: 8001,
    metrics: ['jobs_processed_total', 'job_duration_seconds', 'queue_jobs', 'webhook_attempts_total', 'webhook_breaker_trips_total', 'process_start_time_seconds'],
  },
  scheduler: {
    portVar: 'SCHEDULER_PORT',
    port: 8002,
    metrics: [
      'scheduler_is_leader',
      'scheduler_passes_total',
      'scheduler_pass_duration_seconds',
      'scheduler_rows',
      'scheduler_last_pass_timestamp_seconds',
      'scheduler_row_failures_total',
      'process_start_time_seconds',
    ],
  },
};
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

/** What every service answers on its port (services/api/src/routes/health-routes.ts, shared/src/process/health-server.ts). */
export const HEALTH_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

/** Every environment variable the services read. */
export const CONFIG_ENV_NAMES: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/** After the shutdown timeout, the worker gives aborted jobs this long (ABORT_GRACE_MS in shared/src/jobs/worker.ts). */
export const WORKER_ABORT_GRACE_MS = 5_000;

/** A file's text; `path` is relative to the repository unless absolute. */
export const readText = (path: string) => readFileSync(isAbsolute(path) ? path : join(root, path), 'utf8');

/** Every document of a YAML file (`---`-separated), failing on any parse error or warning. */
export function readYamlDocs(path: string): unknown[] {
  return parseYamlDocs(readText(path), path);
}

export function parseYamlDocs(text: string, label = 'yaml'): unknown[] {
  const docs = parseAllDocuments(text, { merge: true });
  if (!Array.isArray(docs)) return [];
  return docs
    .map((doc) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length) throw new Error(`${label}: ${problems.map((p) => p.message).join('; ')}`);
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

const run = promisify(execFile);

/**
 * `npx tsc -b` as the images' build stage runs it, once at a time across test files: two
 * compilers writing the same dist/ while a test reads it would race.
 */
export async function buildProduction(): Promise<void> {
  const lock = join(tmpdir(), `jobs-tsc-${createHash('sha1').update(root).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // A lock older than 3 minutes belongs to a run that died.
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 180_000) await rmdir(lock).catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`could not take ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await run('npx', ['tsc', '-b'], { cwd: root });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`tsc -b failed:\n${stdout}${stderr}`);
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}
