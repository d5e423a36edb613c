import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { readText, readYamlDocs, root, SERVICES } from './lib/deployment.js';

// SPEC §10: the dashboard and the alert rules may only use metrics the services export.

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

const rules = (readYamlDocs('infra/prometheus/alerts.yaml')[0] as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readText('infra/grafana/jobs-dashboard.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query?: unknown }> };
};
const queries = dashboard.panels.filter((p) => p.type !== 'row').flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const kedaQueries = (readYamlDocs('infra/k8s/components/keda/scaledobject.yaml') as Array<{ spec: { triggers: Array<{ type: string; metadata: { query?: string } }> } }>).map(
  (so) => so.spec.triggers.find((t) => t.type === 'prometheus')!.metadata.query!,
);

/** Grafana's variables, replaced by values PromQL can parse. */
const grafanaToPromql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$(\w+)/g, 'x');

/** Parses PromQL; returns the metric names it selects, or throws on a syntax error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  let error: number | undefined;
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) error ??= node.from;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(expr.slice(node.from, node.to));
    },
  });
  if (error !== undefined) throw new Error(`PromQL syntax error at ${error}: ${expr}`);
  return names;
}

/** A histogram's series are its name plus _bucket, _sum or _count. */
const family = (name: string, known: ReadonlySet<string>) => (known.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

let defined: Set<string>;
let defaults: Set<string>;
beforeAll(async () => {
  // Metric names registered in the code: `name: '…'` in the files that use prom-client.
  const files = ['shared/src', ...readdirSync(join(root, 'services')).map((s) => `services/${s}/src`)].flatMap(sourceFiles);
  defined = new Set(
    files
      .map((f) => readFileSync(f, 'utf8'))
      .filter((text) => text.includes("from 'prom-client'"))
      .flatMap((text) => [...text.matchAll(/\bname:\s*'([a-z_][a-z0-9_]*)'/g)].map((m) => m[1]!)),
  );
  // Node's process metrics, which every service registers (createMetricsRegistry).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  defaults = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
});

describe('infra/prometheus/alerts.yaml', () => {
  it('every rule parses, has a severity, a summary and a description, and a unique name', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const r of rules) {
      expect(() => metricNames(r.expr), r.alert).not.toThrow();
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
      if (r.for) expect(r.for).toMatch(/^\d+[smh]$/);
    }
  });

  it('every alert is explained in docs/operations.md', () => {
    const doc = readText('docs/operations.md');
    for (const r of rules) expect(doc, r.alert).toMatch(new RegExp(`\\b${r.alert}\\b`));
  });
});

describe('infra/grafana/jobs-dashboard.json', () => {
  it('is a Grafana dashboard whose panels have unique ids, do not overlap, and query the chosen Prometheus', () => {
    expect(dashboard.uid).toBe('jobs-overview');
    const panels = dashboard.panels;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} / ${b.title}`).toBe(false);
      }
    }
    const variables = dashboard.templating.list.map((v) => v.name);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) {
        for (const [, v] of t.expr.matchAll(/\$(\w+)/g)) if (!v!.startsWith('__')) expect(variables, `$${v} in ${p.title}`).toContain(v);
      }
    }
  });

  it('every query parses as PromQL', () => {
    expect(queries.length).toBeGreaterThan(20);
    for (const q of queries) expect(() => metricNames(grafanaToPromql(q.expr)), q.panel).not.toThrow();
  });

  it('shows every metric the code defines (SPEC §10: jobs, durations, queue depth, webhooks, breaker trips, scheduler)', () => {
    const shown = new Set(queries.flatMap((q) => metricNames(grafanaToPromql(q.expr))).map((n) => family(n, defined)));
    for (const name of defined) expect(shown, name).toContain(name);
    for (const spec of ['jobs_processed_total', 'job_duration_seconds', 'queue_jobs', 'webhook_attempts_total', 'webhook_breaker_trips_total', 'scheduler_passes_total', 'scheduler_is_leader']) {
      expect(defined, spec).toContain(spec);
    }
  });
});

describe('queues (SPEC §12): job metrics carry `queue`, and every query over them keeps queues apart', () => {
  const QUEUE_SERIES = /\b(queue_jobs|jobs_processed_total|job_duration_seconds_(?:bucket|sum|count))\{([^}]*)\}/g;

  it('the dashboard filters every job series by the $queue variable (multi-select, All = every queue)', () => {
    const queue = dashboard.templating.list.find((v) => v.name === 'queue') as { multi?: boolean; includeAll?: boolean; allValue?: string } | undefined;
    expect(queue).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
    const jobQueries = queries.filter((q) => QUEUE_SERIES.test(q.expr) && (QUEUE_SERIES.lastIndex = 0) === 0);
    expect(jobQueries.length).toBeGreaterThan(10);
    for (const q of jobQueries) for (const [, name, matchers] of q.expr.matchAll(QUEUE_SERIES)) expect(matchers, `${name} in ${q.panel}`).toContain('queue=~"$queue"');
    // queue_jobs comes from the api and from every worker: each queue is taken once (max by queue) before summing.
    for (const q of queries.filter((x) => x.expr.includes('queue_jobs'))) expect(q.expr, q.panel).toMatch(/max by \((queue, state|queue)\) \(queue_jobs/);
    expect(queries.map((q) => q.panel)).toEqual(expect.arrayContaining(['Ready to run by queue', 'Runs by queue']));
  });

  it('the queue alerts fire per queue, and the job alerts per queue and handler', () => {
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(byName.JobsBacklogNotDraining!.expr).toMatch(/sum by \(queue\) \(max by \(queue, state\) \(queue_jobs/);
    expect(byName.JobsBacklogNotDraining!.expr).toMatch(/unless on \(queue\)\s+sum by \(queue\) \(rate\(jobs_processed_total/);
    expect(byName.JobsBacklogNotDraining!.annotations.summary).toContain('{{ $labels.queue }}');
    expect(byName.JobsBacklogHigh!.expr).toMatch(/^sum by \(queue\)/);
    for (const name of ['JobsFailureRatioHigh', 'JobsRetryStorm', 'JobsSlowHandler']) {
      for (const [, by] of byName[name]!.expr.matchAll(/\bby \(([^)]*)\)/g)) expect(by!.split(', '), name).toEqual(expect.arrayContaining(['queue', 'handler']));
      expect(byName[name]!.annotations.summary, name).toContain('{{ $labels.queue }}');
    }
  });
});

describe('metric names in the dashboard, the alerts and the KEDA query', () => {
  it('exist in the code (or are prom-client defaults), and a running service exports them', () => {
    const used = new Set([
      ...queries.flatMap((q) => metricNames(grafanaToPromql(q.expr))),
      ...rules.flatMap((r) => metricNames(r.expr)),
      ...kedaQueries.flatMap(metricNames),
    ]);
    // What dockerfiles.test.ts sees each running service export, defaults included (process_*).
    const exported = new Set(Object.values(SERVICES).flatMap((s) => s.metrics));
    for (const name of used) {
      const base = family(name, defined);
      expect(defined.has(base) || defaults.has(base), `${name} is neither defined in the code nor a prom-client default`).toBe(true);
      if (defined.has(base)) expect(exported, `${base}: which service exports it? (SERVICES in test/deploy/lib/deployment.ts)`).toContain(base);
    }
  });
});
