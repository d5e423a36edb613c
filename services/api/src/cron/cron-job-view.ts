import type { CronJob } from '@jobs/shared/db';
import { parseCronPattern } from '@jobs/shared/cron';

/** A `cron_job` row as the API shows it (camelCase, ISO timestamps). */
export interface CronJobView {
  id: string;
  jobId: string;
  name: string;
  pattern: string;
  handler: string;
  payload: Record<string, unknown>;
  enabled: boolean;
  maxAttempts: number;
  backoffMs: number;
  /** The next tick in UTC; null when disabled (nothing will fire). */
  nextRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * The API's view of a row. `nextRunAt` is computed from the pattern; a pattern that no longer
 * parses (a row edited in SQL) shows null rather than failing the whole response.
 *
 * @example
 * c.json(toCronJobView(row), 200);
 */
export function toCronJobView(row: CronJob, now: Date = new Date()): CronJobView {
  return {
    id: row.id,
    jobId: row.job_id,
    name: row.name,
    pattern: row.pattern,
    handler: row.handler,
    payload: row.payload,
    enabled: row.enabled,
    maxAttempts: row.max_attempts,
    backoffMs: row.backoff_ms,
    nextRunAt: row.enabled ? nextRun(row.pattern, now) : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function nextRun(pattern: string, now: Date): string | null {
  try {
    return parseCronPattern(pattern, { from: now }).next[0]?.toISOString() ?? null;
  } catch {
    return null;
  }
}
