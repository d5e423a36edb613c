import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PassResult, RowFailure } from './reconcile.js';

/** `full`: every row against every scheduler; `change`: the rows named by change messages. */
export type PassKind = 'full' | 'change';
/** `ok`: every row synced; `partial`: some rows failed; `error`: the pass itself failed (DB or Redis down). */
export type PassOutcome = 'ok' | 'partial' | 'error';

export interface SchedulerMetrics {
  setLeader(leader: boolean): void;
  pass(kind: PassKind, outcome: PassOutcome, seconds: number, result?: PassResult): void;
  rowFailures(failures: readonly RowFailure[]): void;
}

export const noSchedulerMetrics: SchedulerMetrics = { setLeader: () => undefined, pass: () => undefined, rowFailures: () => undefined };

/**
 * The scheduler's series on `registry`:
 * - `scheduler_is_leader` 1 while this process holds the leader lock;
 * - `scheduler_passes_total{kind,result}` and `scheduler_pass_duration_seconds{kind}`;
 * - `scheduler_rows{outcome}`: upserted / removed / unchanged / failed in the last full pass;
 * - `scheduler_last_pass_timestamp_seconds`: when the last full pass that reached Redis ended;
 * - `scheduler_row_failures_total{reason}`: rows skipped or not written, by reason.
 *
 * @example
 * const metrics = createSchedulerMetrics(createMetricsRegistry('scheduler'));
 * metrics.setLeader(true);
 */
export function createSchedulerMetrics(registry: Registry): SchedulerMetrics {
  const registers = [registry];
  const leader = new Gauge({ name: 'scheduler_is_leader', help: '1 while this process is the scheduler leader', registers });
  leader.set(0);
  const passes = new Counter({ name: 'scheduler_passes_total', help: 'Reconcile passes by kind and result', labelNames: ['kind', 'result'], registers });
  const duration = new Histogram({
    name: 'scheduler_pass_duration_seconds',
    help: 'Duration of reconcile passes',
    labelNames: ['kind'],
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120],
    registers,
  });
  const rows = new Gauge({ name: 'scheduler_rows', help: 'Rows by outcome in the last full pass', labelNames: ['outcome'], registers });
  const lastPass = new Gauge({ name: 'scheduler_last_pass_timestamp_seconds', help: 'Unix time the last full pass ended', registers });
  const failures = new Counter({ name: 'scheduler_row_failures_total', help: 'Rows skipped or not written, by reason', labelNames: ['reason'], registers });
  return {
    setLeader: (isLeader) => leader.set(isLeader ? 1 : 0),
    pass(kind, outcome, seconds, result) {
      passes.inc({ kind, result: outcome });
      duration.observe({ kind }, seconds);
      if (kind === 'full' && result) {
        for (const [outcomeName, n] of Object.entries(result)) rows.set({ outcome: outcomeName }, n);
        lastPass.set(Date.now() / 1000);
      }
    },
    rowFailures(list) {
      for (const f of list) failures.inc({ reason: f.reason });
    },
  };
}
