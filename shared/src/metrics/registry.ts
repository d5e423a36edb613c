import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/**
 * A Prometheus registry for one service, with Node's default metrics and a `service` label on
 * every series. Components register their own metrics on the registry they are handed, so tests
 * can give each instance a fresh one.
 *
 * @example
 * const metrics = createMetricsRegistry('worker');
 * const text = await metrics.metrics();
 */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
