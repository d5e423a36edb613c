import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parser } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../../services/api/test/helpers/test-app.js';
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
  fieldConfig?: { defaults: { links?: Array<{ title: string; url: string }> } };
}

const rules = (readYamlDocs('infra/prometheus/alerts.yaml')[0] as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readText('infra/grafana/jobs-dashboard.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
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

describe('the API request metrics (SPEC §10): dashboard panels, the 5xx alert, checked against a live /metrics', () => {
  const HTTP = /^http_server_/;
  const byTitle = (title: string) => dashboard.panels.find((p) => p.title === title) ?? expect.fail(`no panel "${title}"`);
  const exprs = (title: string) => (byTitle(title).targets ?? []).map((t) => t.expr);
  const httpQueries = [...queries.map((q) => ({ where: q.panel, expr: grafanaToPromql(q.expr) })), ...rules.map((r) => ({ where: r.alert, expr: r.expr }))].filter((q) =>
    metricNames(q.expr).some((n) => HTTP.test(n)),
  );

  /** Label names a query matches on or groups by. */
  function labelNames(expr: string): string[] {
    const names: string[] = [];
    parser.parse(expr).iterate({
      enter(node) {
        if (node.name === 'LabelName') names.push(expr.slice(node.from, node.to));
      },
    });
    return names;
  }

  it('every query over them names only families and labels the api really exports', async () => {
    expect(httpQueries.length).toBeGreaterThanOrEqual(12);
    const t = await createTestApp();
    let text: string;
    try {
      for (const path of ['/healthz', '/no/such/route', '/api/admin/handler']) await t.call('GET', path);
      text = await (await t.call('GET', '/metrics')).text();
    } finally {
      await t.close();
    }
    const live = new Map<string, Set<string>>();
    for (const [, series, labels] of text.matchAll(/^(http_server_\w+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
      const family = series!.replace(/_(bucket|sum|count)$/, '');
      const set = live.get(family) ?? new Set<string>();
      for (const [, name] of labels!.matchAll(/(\w+)="/g)) set.add(name!);
      live.set(family, set);
    }
    expect([...live.keys()].sort()).toEqual(['http_server_active_requests', 'http_server_request_duration_seconds']);
    for (const q of httpQueries) {
      const families = metricNames(q.expr).map((n) => family(n, defined));
      for (const f of families) expect(live.has(f), `${f} in ${q.where}`).toBe(true);
      // `le` comes with a histogram's buckets, `instance` and `job` from Prometheus' scrape.
      const known = new Set(['le', 'instance', 'job', ...families.flatMap((f) => [...(live.get(f) ?? [])])]);
      for (const label of labelNames(q.expr)) expect(known, `label ${label} in ${q.where}`).toContain(label);
    }
  });

  it('the dashboard shows request rate by route and status class, p50/p95/p99, 4xx and 5xx, in flight, filtered by $route', () => {
    expect(exprs('Requests by route and status class')[0]).toMatch(/^sum by \(route, status_class\) \(rate\(http_server_request_duration_seconds_count\{route=~"\$route"\}/);
    expect(exprs('Request duration p50 / p95 / p99').map((e) => /histogram_quantile\((0\.\d+),/.exec(e)?.[1])).toEqual(['0.5', '0.95', '0.99']);
    expect(exprs('Server errors (5xx) by route')[0]).toContain('status_class="5xx"');
    expect(exprs('Client errors (4xx) by route')[0]).toContain('status_class="4xx"');
    expect(exprs('Requests in flight')[0]).toContain('http_server_active_requests');
    // The ratio stat is the alert's own expression, threshold and guard aside.
    const alert = rules.find((r) => r.alert === 'ApiServerErrors')!;
    expect(alert.expr.replace(/\s+/g, ' ')).toContain(exprs('5xx ratio (5m)')[0]!);
    const route = dashboard.templating.list.find((v) => v.name === 'route') as { multi?: boolean; includeAll?: boolean; allValue?: string } | undefined;
    expect(route).toMatchObject({ multi: true, includeAll: true, allValue: '.*' });
  });

  it('ApiServerErrors fires on the 5xx ratio of real traffic: probes and scrapes left out, a traffic floor, a `for`', () => {
    const alert = rules.find((r) => r.alert === 'ApiServerErrors') ?? expect.fail('no ApiServerErrors alert');
    expect(alert.labels.severity).toBe('critical');
    expect(alert.for).toBe('10m');
    for (const [, matchers] of alert.expr.matchAll(/http_server_request_duration_seconds_count\{([^}]*)\}/g)) expect(matchers).toContain('route!~"/healthz|/readyz|/metrics"');
    expect(alert.expr).toMatch(/status_class="5xx"/);
    expect(alert.expr).toMatch(/\)\s*> 0\.05\s+and\s+sum\(rate\(/);
  });

  it('promtool accepts the rules, and their unit tests (infra/prometheus/tests) pass', { timeout: 60_000 }, async () => {
    const run = promisify(execFile);
    const check = await run('promtool', ['check', 'rules', 'infra/prometheus/alerts.yaml'], { cwd: root });
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tests = readdirSync(join(root, 'infra/prometheus/tests')).filter((f) => f.endsWith('.yaml'));
    expect(tests.length).toBeGreaterThan(0);
    const unit = await run('promtool', ['test', 'rules', ...tests.map((f) => `infra/prometheus/tests/${f}`)], { cwd: root });
    expect(unit.stdout).toContain('SUCCESS');
    expect(unit.stdout).not.toContain('FAILED');
    // Every alert of the API group has a unit test.
    const tested = tests.map((f) => readText(`infra/prometheus/tests/${f}`)).join('\n');
    expect(tested).toMatch(/alertname: ApiServerErrors/);
  });
});

describe('trace links (issue 16 item 6): job panels lead to their runs in a Tempo data source', () => {
  const linked = dashboard.panels.filter((p) => p.fieldConfig?.defaults.links?.length);

  it('a $traces variable picks the Tempo data source', () => {
    expect(dashboard.templating.list.find((v) => v.name === 'traces')).toMatchObject({ type: 'datasource', query: 'tempo' });
  });

  it('every job panel that splits by queue, handler or outcome links to a TraceQL search in Explore over the panel range', () => {
    const jobSplits = dashboard.panels.filter((p) => p.type === 'timeseries' && (p.targets ?? []).some((t) => /^sum by \((queue|handler|outcome)\) \(rate\(jobs_processed_total|by \(handler(, le)?\) \(rate\(job_duration/.test(t.expr)));
    expect(jobSplits.length).toBeGreaterThanOrEqual(5);
    expect(linked.map((p) => p.title).sort()).toEqual(jobSplits.map((p) => p.title).sort());
    for (const p of linked) {
      const link = p.fieldConfig!.defaults.links![0]!;
      expect(link.url, p.title).toMatch(/^\/explore\?schemaVersion=1&panes=/);
      // What Grafana builds: its variables filled in, then the pane state decoded as Explore reads it.
      const filled = link.url.replace(/\$\{(\w+)\}/g, (_m, v: string) => ({ traces: 'tempo-uid', __from: '1700000000000', __to: '1700003600000' })[v] ?? `\${${v}}`).replace(/\$\{__field\.labels\.(\w+)\}/g, 'v_$1');
      const panes = JSON.parse(decodeURIComponent(new URL(filled, 'http://grafana').searchParams.get('panes')!)) as Record<string, { datasource: string; queries: Array<{ queryType: string; query: string }>; range: { from: string; to: string } }>;
      const pane = Object.values(panes)[0]!;
      expect(pane.datasource).toBe('tempo-uid');
      expect(pane.range).toEqual({ from: '1700000000000', to: '1700003600000' });
      expect(pane.queries[0]!.queryType).toBe('traceql');
      const query = pane.queries[0]!.query;
      expect(query, p.title).toMatch(/^\{ .* \}$/);
      // The series' own label fills the filter: the panel groups by that label.
      for (const [, label] of query.matchAll(/"v_(\w+)"/g)) expect(p.targets!.some((t) => t.expr.includes(`by (${label}`)), `${label} in ${p.title}`).toBe(true);
    }
  });

  it('the TraceQL filters name attributes the run spans carry (SPEC §15)', () => {
    const spanCode = sourceFiles('shared/src/tracing').map((f) => readFileSync(f, 'utf8')).join('\n');
    const attributes = new Set(linked.flatMap((p) => [...decodeURIComponent(p.fieldConfig!.defaults.links![0]!.url).matchAll(/\bspan\.([a-z_.]+) =/g)].map((m) => m[1]!)));
    expect([...attributes].sort()).toEqual(['jobs.handler', 'jobs.outcome', 'messaging.destination.name', 'messaging.operation.type']);
    for (const attribute of attributes) expect(spanCode, attribute).toContain(`'${attribute}'`);
  });
});
