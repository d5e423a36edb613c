import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * One text exposition of several registries of the same process, for a single `/metrics` that
 * serves them all (the all-in-one local run serves the worker's and the scheduler's on the api's
 * port). Each registry's default labels (`service`) are applied first, so equally named metrics
 * of different services stay apart as series of one family instead of clashing, which
 * `Registry.merge` would throw on. A series two registries both export (same name and labels)
 * is taken from the first. Read at scrape time: collectors run as for a plain scrape.
 *
 * @example
 * const text = await mergedMetricsText([apiRegistry, workerRegistry, schedulerRegistry]);
 */
export async function mergedMetricsText(registries: readonly Registry[]): Promise<string> {
  const all = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
  // Series of different registries differ by `service`, so nothing is to be combined: `first`
  // keeps each series as it is. The metrics' own aggregators are meant for cluster workers of
  // one service and would drop some (`process_start_time_seconds` is `omit`).
  return AggregatorRegistry.aggregate(all.map((metrics) => metrics.map((m) => ({ ...m, aggregator: 'first' })))).metrics();
}
