/**
 * The per-request cost of each piece of the API's tracing, without HTTP or Redis, so that other
 * load on the machine changes it little (CPU time of this process, best of several rounds):
 * a stand-in request is an async chain making as many promises as a real `POST /api/admin/job`
 * does (78, counted with an async_hooks init hook in bench/lib/tracing-probe.ts), run 50 at a time.
 *
 *   npx tsx --conditions=development bench/lib/tracing-micro.ts [variant]   # prints one JSON line
 *
 * variants: bare (no SDK) | als (the AsyncLocalStorage context manager, context.with per request) |
 * spans-off (+ withServerSpan and withProducerSpan, AlwaysOff sampler) | spans-on (+ recorded,
 * batch processor, OTLP/protobuf export to a discarding sink in this process) | spans-on-nocm
 * (recorded, no context manager).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { withProducerSpan } from '../../shared/src/tracing/job-spans.js';
import { withServerSpan } from '../../shared/src/tracing/http-server-span.js';

const variant = process.argv[2] ?? 'bare';
const PROMISES = Number(process.env.MICRO_PROMISES ?? 78);
const IN_FLIGHT = 50;
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.MICRO_REQUESTS ?? 20_000);

let exports = 0;
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));

async function setUp(): Promise<() => Promise<void>> {
  if (variant === 'bare') return async () => undefined;
  const { NodeTracerProvider, BatchSpanProcessor, AlwaysOffSampler, AlwaysOnSampler } = await import('@opentelemetry/sdk-trace-node');
  if (variant === 'als') {
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    return async () => undefined;
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  const provider =
    variant === 'spans-off'
      ? new NodeTracerProvider({ sampler: new AlwaysOffSampler() })
      : new NodeTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))] });
  provider.register(variant === 'spans-on-nocm' ? { contextManager: null } : {});
  return () => provider.shutdown();
}
const stop = await setUp();
const tracer = trace.getTracer('micro');
const traced = variant !== 'bare' && variant !== 'als';
const headers = new Headers({ 'content-type': 'application/json', 'user-agent': 'autocannon' });
const request = { method: 'POST', url: 'http://127.0.0.1:3000/api/admin/job', headers };

/** The stand-in for a request's own work: an async chain of `PROMISES` promises, a little garbage. */
async function work(): Promise<number> {
  let n = 0;
  for (let i = 0; i < PROMISES / 2; i++) n += (await Promise.resolve({ i, s: `x${i}` })).i;
  return n;
}

async function oneRequest(): Promise<void> {
  if (traced) {
    await withServerSpan(
      tracer,
      request,
      async () => {
        await withProducerSpan(tracer, { queue: 'default', handler: 'echo', type: 'adhoc' }, async (carrier) => (await work(), carrier ? 'id-1' : 'id-0'));
        return 201;
      },
      () => '/api/admin/job',
    );
  } else if (variant === 'als') {
    await context.with(context.active(), work);
  } else {
    await work();
  }
}

async function round(): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < PER_ROUND) await oneRequest();
    }),
  );
  const { user, system } = process.cpuUsage(cpu);
  // Let the batch processor's exports of this round finish inside the next measurement, not never.
  await new Promise((r) => setImmediate(r));
  return (user + system) / PER_ROUND;
}

const rounds: number[] = [];
for (let i = 0; i < ROUNDS + 1; i++) rounds.push(await round());
rounds.shift(); // warm-up
await stop();
sink.close();
process.stdout.write(`${JSON.stringify({ variant, promises: PROMISES, bestUsPerReq: +Math.min(...rounds).toFixed(2), medianUsPerReq: +[...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!.toFixed(2), exports })}\n`);
process.exit(0);
