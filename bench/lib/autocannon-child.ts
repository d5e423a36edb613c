/**
 * Child process of bench/lib/http-load.ts: runs autocannon's programmatic API against the spec
 * given as argv[2] (JSON) and reports over IPC: 'warmed' after the unreported warm-up, then
 * 'result'. Not meant to be run by hand.
 */
import autocannon from 'autocannon';
import type { ChildMessage, LoadSpec, LoadSummary } from './http-load.js';

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) throw new Error('autocannon-child must be forked with an IPC channel');
    process.send(msg, () => resolve());
  });
}

function summarize(r: autocannon.Result): LoadSummary {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) statusCodes[code] = count;
  return {
    seconds: r.duration,
    requests: r.requests.total,
    status2xx: r['2xx'],
    non2xx: r.non2xx,
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    mismatches: r.mismatches,
    latency: { mean: r.latency.mean, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max },
  };
}

async function run(spec: LoadSpec, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    connections: spec.connections,
    duration: seconds,
  });
}

try {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  if (spec.warmupSeconds > 0) await send({ kind: 'warmed', warmup: summarize(await run(spec, spec.warmupSeconds)) });
  const cpu = process.cpuUsage();
  const result = await run(spec, spec.seconds);
  const { user, system } = process.cpuUsage(cpu);
  await send({ kind: 'result', result: summarize(result), cpuUs: user + system });
} catch (err) {
  await send({ kind: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
process.exit(0);
