import { withTimeout } from './with-timeout.js';
/** A named readiness check: resolves when the dependency answers, rejects when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  /** Every check by name: `ok` or `down`. */
  checks: Record<string, 'ok' | 'down'>;
  /** Names of the checks that are down, in declaration order. */
  down: string[];
  /** Why each down check failed. For logs only: these may reveal internals, never send them to clients. */
  errors: Record<string, string>;
}

/**
 * Runs every check in parallel, each bounded by `timeoutMs` so one hung dependency cannot hang
 * the probe (Kubernetes would then see a timeout instead of a clear 503).
 *
 * @example
 * const report = await checkReadiness({ redis: () => redis.ping() });
 * if (!report.ready) console.log('down:', report.down);
 */
export async function checkReadiness(checks: Record<string, ReadinessCheck>, timeoutMs = 2_000): Promise<ReadinessReport> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs);
        return { name, error: undefined };
      } catch (err) {
        return { name, error: err instanceof Error ? err.message || err.name : String(err) };
      }
    }),
  );
  const down = results.filter((r) => r.error !== undefined);
  return {
    ready: down.length === 0,
    checks: Object.fromEntries(results.map((r) => [r.name, r.error === undefined ? 'ok' : 'down'])),
    down: down.map((r) => r.name),
    errors: Object.fromEntries(down.map((r) => [r.name, r.error!])),
  };
}

/** The `/readyz` body every service answers with, so probes and dashboards read one shape. */
export function readinessBody(report: ReadinessReport): { status: 'ok' | 'unavailable'; checks: Record<string, 'ok' | 'down'>; down?: string[] } {
  return report.ready ? { status: 'ok', checks: report.checks } : { status: 'unavailable', checks: report.checks, down: report.down };
}
