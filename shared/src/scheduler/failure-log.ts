import type { Logger } from 'pino';
import type { RowFailure } from './reconcile.js';
import type { SchedulerMetrics } from './scheduler-metrics.js';

export interface FailureLog {
  /** Counts every failure; logs an error for each one not already reported with the same message. */
  report(failures: readonly RowFailure[], complete: boolean): void;
}

/**
 * Logs rows the scheduler skips. A bad row fails again on every pass; it is logged as an error
 * when it first fails (or fails differently) and counted in `scheduler_row_failures_total`
 * every time, so the log is not flooded once a minute per bad row.
 * `complete`: the failures of a full pass, which also forget the rows that recovered.
 */
export function createFailureLog(log: Logger, metrics: SchedulerMetrics): FailureLog {
  let reported = new Map<string, string>();
  return {
    report(failures, complete) {
      metrics.rowFailures(failures);
      const next = complete ? new Map<string, string>() : reported;
      for (const f of failures) {
        const key = `${f.cronJobId}|${f.jobId}`;
        if (reported.get(key) !== f.message) {
          log.error({ cronJobId: f.cronJobId || undefined, jobId: f.jobId, reason: f.reason, error: f.message }, 'cron row skipped: its scheduler was not written');
        }
        next.set(key, f.message);
      }
      reported = next;
    },
  };
}
