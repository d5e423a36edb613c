/**
 * Bisects the HTTP enqueue cost of tracing (bench/tracing.ts): the real API (startApiService,
 * APP_ENV=local) under `POST /api/admin/job` load, with one piece of OpenTelemetry at a time,
 * optionally with an in-process CPU profile of the measured window. Prints one JSON line.
 *
 *   npx tsx --conditions=development bench/lib/tracing-probe.ts '{"variant":"cm"}'
 *
 * variants: off | full (startTracing, the OTEL_* env; `full@0.1` sets the sampler ratio) | cm (the
 * AsyncLocalStorage context manager only: costs nothing until something calls context.with, so
 * use it with `"bare": true`) | provider-nocm (the SDK with no context manager) | alwaysoff (the
 * SDK, AlwaysOff sampler, no processor) | count (an async_hooks init hook counting the async
 * resources made per request). Other keys: seconds, warmupSeconds, connections, rate (fixed
 * req/s), profile (path of a .cpuprofile of the measured window), bare (a bare Hono route, not
 * the API). The OTLP endpoint must be set in the environment for the SDK variants (any sink).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { context } from '@opentelemetry/api';
import { loadConfig } from '../../shared/src/config/index.js';
import { createLogger } from '../../shared/src/logger/index.js';
import { startApiService } from '../../services/api/src/api-service.js';
import { createTestDatabase } from '../../test/helpers/db.js';
import { runLoad } from './http-load.js';
import { saveCpuProfile, startCpuProfile, summarizeCpuProfile } from './cpu-profile.js';

interface ProbeSpec {
  variant: string;
  seconds?: number;
  warmupSeconds?: number;
  connections?: number;
  profile?: string;
  prefix?: string;
  /** A bare Hono route (JSON body, 39 awaits, `context.with` around it) instead of the API: ALS alone. */
  bare?: boolean;
  /** Fixed request rate (autocannon -R) instead of as fast as it goes: CPU per request at equal load. */
  rate?: number;
}
const spec = JSON.parse(process.argv[2] ?? '{}') as ProbeSpec;
// `full@0.1`: startTracing at that sampler ratio.
const [variantName, ratio] = spec.variant.split('@') as [string, string | undefined];
if (ratio !== undefined) process.env.OTEL_TRACES_SAMPLER_ARG = ratio;
const { pino } = await import('pino');
const log = createLogger({ level: 'info', destination: pino.destination('/dev/null') }) as Logger;

/** Async resources created per request (variant `count`): what AsyncLocalStorage's hooks run for. */
const created = new Map<string, number>();
let counting = false;

async function setUp(variant: string): Promise<() => Promise<void>> {
  if (variant === 'off') return async () => undefined;
  if (variant === 'count') {
    const { createHook } = await import('node:async_hooks');
    createHook({ init: (_id, type) => void (counting && created.set(type, (created.get(type) ?? 0) + 1)) }).enable();
    return async () => undefined;
  }
  if (variant === 'full') {
    const { startTracing } = await import('../../shared/src/tracing/index.js');
    const t = await startTracing('bench-probe', log);
    return () => t.shutdown();
  }
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  if (variant === 'cm') {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    return async () => undefined;
  }
  const { NodeTracerProvider, BatchSpanProcessor, AlwaysOffSampler } = await import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  let provider: InstanceType<typeof NodeTracerProvider>;
  if (variant === 'alwaysoff') provider = new NodeTracerProvider({ sampler: new AlwaysOffSampler() });
  else provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register(variant === 'provider-nocm' || variant === 'full-nocm' ? { contextManager: null } : {});
  return () => provider.shutdown();
}

const stop = await setUp(variantName);
const prefix = spec.prefix ?? `probe-${process.pid}`;
const db = await createTestDatabase();
const config = loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: prefix, LOG_LEVEL: 'info', REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
const api = spec.bare ? await bareApi() : await startApiService(config, log, { db: db.db, port: 0, host: '127.0.0.1' });

/** Variant `cm` vs `off` on this measures AsyncLocalStorage's promise hooks with nothing else of tracing. */
async function bareApi() {
  const { Hono } = await import('hono');
  const { serveApp } = await import('./bare-server.js');
  const app = new Hono();
  // With no context manager registered, context.with is the API's no-op manager: a plain call.
  app.use('*', (c, next) => context.with(context.active(), next));
  app.post('/api/admin/job', async (c) => {
    const body = (await c.req.json()) as { handler: string };
    let n = 0;
    for (let i = 0; i < 39; i++) n += await Promise.resolve(i);
    return c.json({ id: String(n), handler: body.handler, type: 'adhoc' }, 201);
  });
  return serveApp(app, '127.0.0.1');
}
/** CPU ticks (1/100 s) per thread name of this process: the main thread vs V8's GC/compiler workers vs libuv. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}#${tid === String(process.pid) ? "main" : tid}`, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}
/** GC pauses of the measured window by kind (minor = scavenge, major = mark-compact, …). */
const gc = new Map<string, { count: number; ms: number }>();
let gcOn = false;
counting = false;
const gcObserver = new PerformanceObserver((list) => {
  if (!gcOn) return;
  for (const e of list.getEntries()) {
    const kind = ({ 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' } as Record<number, string>)[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
    const g = gc.get(kind) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += e.duration;
    gc.set(kind, g);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
let ticksAtStart: Map<string, number> | undefined;
let stopProfile: Awaited<ReturnType<typeof startCpuProfile>> | undefined;
let profiling: Promise<void> | undefined;
const body = JSON.stringify({ handler: 'echo', payload: { message: 'hi' } });
const url = `http://127.0.0.1:${api.port}/api/admin/job`;
const onMeasuring = () => {
  ticksAtStart = threadTicks();
  gcOn = true;
  counting = true;
  if (spec.profile) profiling = startCpuProfile(250).then((s) => void (stopProfile = s));
};
const result = spec.rate
  ? await fixedRate(url, body, spec.rate, spec.connections ?? 20, spec.seconds ?? 6, spec.warmupSeconds ?? 2, onMeasuring)
  : await runLoad({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: spec.connections ?? 50, seconds: spec.seconds ?? 6, warmupSeconds: spec.warmupSeconds ?? 2 }, onMeasuring);

/** autocannon's CLI at a fixed overall rate in a child process; this process's CPU over the measured part. */
async function fixedRate(target: string, payload: string, rate: number, connections: number, seconds: number, warmup: number, measuring: () => void) {
  const cannon = (secs: number) =>
    new Promise<{ requests: { total: number }; '2xx': number; non2xx: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [fileURLToPath(new URL('../../node_modules/autocannon/autocannon.js', import.meta.url)), '-j', '-R', String(rate), '-c', String(connections), '-d', String(secs), '-m', 'POST', '-H', 'content-type=application/json', '-b', payload, target], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', () => { try { resolve(JSON.parse(out)); } catch (err) { reject(err); } });
    });
  if (warmup > 0) await cannon(warmup);
  measuring();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const r = await cannon(seconds);
  const { user, system } = process.cpuUsage(cpu);
  return { status2xx: r['2xx'], seconds, requests: r.requests.total, serverCpuUs: user + system, serverElu: performance.eventLoopUtilization(elu).utilization, non2xx: r.non2xx };
}
const ticksAtEnd = threadTicks();
gcOn = false;
counting = false;
await profiling;
const out: Record<string, unknown> = {
  variant: spec.variant,
  reqPerSec: Math.round(result.status2xx / result.seconds),
  cpuUsPerReq: +(result.serverCpuUs / Math.max(1, result.requests)).toFixed(1),
  elu: +result.serverElu.toFixed(2),
  non2xx: result.non2xx,
  ...(created.size ? { asyncResourcesPerReq: Object.fromEntries([...created].map(([t, c]) => [t, +(c / Math.max(1, result.requests)).toFixed(1)])) } : {}),
  gcPerKReq: Object.fromEntries([...gc].map(([k, g]) => [k, { count: +((1000 * g.count) / Math.max(1, result.requests)).toFixed(2), ms: +((1000 * g.ms) / Math.max(1, result.requests)).toFixed(1) }])),
  threadsUsPerReq: Object.fromEntries([...ticksAtEnd].map(([n, t]) => [n, Math.round(((t - (ticksAtStart?.get(n) ?? 0)) * 10_000) / Math.max(1, result.requests))]).filter(([, v]) => Number(v) > 0)),
};
if (stopProfile && spec.profile) {
  const profile = await stopProfile();
  await saveCpuProfile(profile, spec.profile);
  const s = summarizeCpuProfile(profile);
  const busy = s.totalMs - (s.categories.find(([c]) => c.startsWith('idle'))?.[1] ?? 0);
  out.profile = {
    busyMs: Math.round(busy),
    categories: s.categories.slice(0, 25).map(([c, ms]) => `${c}: ${((100 * ms) / busy).toFixed(1)}%`),
    functions: s.functions.slice(0, 40).map(([f, ms]) => `${f}: ${((100 * ms) / busy).toFixed(1)}%`),
  };
}
await api.close();
await db.close();
await stop();
const { Redis } = await import('ioredis');
const { deleteKeysUnder } = await import('./redis-cleanup.js');
const admin = new Redis(config.redisUrl);
await deleteKeysUnder(admin, prefix);
await admin.quit();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
