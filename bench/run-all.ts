/**
 * Runs every benchmark in bench/ one after another, each as a child process (as `npm run
 * bench:<name>` would), and writes a report: machine, date, versions and load, a table of every
 * target's PASS/FAIL line, then per bench its headline figures next to the raw-BullMQ / bare
 * comparison measured in the same run, and its full output.
 *
 *   npm run bench                              # everything, writes bench/RESULTS.md (takes a while)
 *   BENCH_QUICK=1 npm run bench                # smaller sizes, writes bench/out/RESULTS.md
 *   npm run bench -- enqueue-http idle-rss     # a subset, writes bench/out/RESULTS.md
 *
 * Env: BENCH_QUICK=1 gives each bench smaller sizes (see QUICK below; a variable you set yourself
 * wins and reaches every bench as usual); BENCH_RESULTS=<path> writes the report there instead.
 * Only a full-size run of every bench writes bench/RESULTS.md by default, so a quick or partial
 * run never replaces it. Each bench's stdout and stderr also go to bench/out/<name>.log.
 * Exit status: 1 if a bench itself failed (non-zero exit), else 0 whatever the targets say.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, 'bench/out');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const QUICK = process.env.BENCH_QUICK === '1';

// ---------------------------------------------------------------------------------------------
// What each bench prints, turned into rows: figure | library | raw / bare | ratio
// ---------------------------------------------------------------------------------------------

interface Row {
  figure: string;
  lib: string;
  base: string;
  ratio: string;
}

interface Headline {
  /** What "library" and "raw / bare" mean for this bench. */
  libLabel: string;
  baseLabel: string;
  rows: Row[];
  notes: string[];
}

interface BenchSpec {
  name: string;
  /** One line: what it measures. */
  about: string;
  /** Smaller sizes for BENCH_QUICK=1. */
  quick: Record<string, string>;
  headline(out: string): Headline;
}

const lines = (out: string) => out.split('\n');
const num = (s: string) => Number(s.replace(/,/g, ''));
const pct = (a: number, b: number) => (Number.isFinite(a / b) ? `${((a / b) * 100).toFixed(1)}%` : '—');
const NUM = String.raw`[\d,.]+`;

/** The lines under the first heading that starts with `heading`, up to the next heading. */
function section(out: string, heading: string): string[] {
  const all = lines(out);
  const start = all.findIndex((l) => l.startsWith(heading));
  if (start < 0) return [];
  const rest = all.slice(start + 1);
  const end = rest.findIndex((l) => /^#{1,3} /.test(l));
  return end < 0 ? rest : rest.slice(0, end);
}

const BENCHES: BenchSpec[] = [
  {
    name: 'worker-overhead',
    about: 'createWorker + makeJob vs a raw BullMQ Worker, no-op handlers: jobs/s at c=1/10/100, add → completed latency',
    quick: { BENCH_JOBS: '2000', BENCH_REPS: '2', BENCH_LATENCY_JOBS: '400' },
    headline(out) {
      const rows: Row[] = [];
      const reps = /BEST of (\d+)/.exec(out)?.[1] ?? '?';
      for (const l of section(out, '## Throughput')) {
        const m = new RegExp(String.raw`^\s*(\d+)\s+(${NUM})\s+(${NUM})\s+(${NUM}%)\s+(${NUM})\s+(${NUM}%)\s+(.*)$`).exec(l);
        if (m) rows.push({ figure: `jobs/s c=${m[1]} (best of ${reps}; lib@warn ${m[5]} = ${m[6]})`, lib: m[3]!, base: m[2]!, ratio: m[4]! });
        const cpu = /^\s*c=(\d+)\s+raw ([\d.]+) µs \| lib@info ([\d.]+) µs/.exec(l);
        if (cpu) rows.push({ figure: `CPU µs per job c=${cpu[1]} (median)`, lib: cpu[3]!, base: cpu[2]!, ratio: pct(num(cpu[3]!), num(cpu[2]!)) });
      }
      const lat: Record<string, string[]> = {};
      for (const l of section(out, '## Latency')) {
        const m = /^\s*(raw|lib@info|lib@warn)\s+([\d.]+) ms\s+([\d.]+) ms\s+([\d.]+) ms\s+([\d.]+)x\s*$/.exec(l);
        if (m) lat[m[1]!] = [m[2]!, m[3]!, m[4]!, m[5]!];
      }
      if (lat.raw && lat['lib@info']) {
        rows.push({ figure: 'add → completed p50 (ms)', lib: lat['lib@info'][0]!, base: lat.raw[0]!, ratio: `${(num(lat['lib@info'][0]!) / num(lat.raw[0]!)).toFixed(2)}x` });
        rows.push({ figure: 'add → completed p99 (ms)', lib: lat['lib@info'][1]!, base: lat.raw[1]!, ratio: `${lat['lib@info'][3]}x` });
      }
      return {
        libLabel: 'library (createWorker, logger at info)',
        baseLabel: 'raw BullMQ Worker',
        rows,
        notes: ['Throughput ratios are best-of-N runs per side (other load only slows a run down); CPU µs/job is the steadier figure on a shared machine.'],
      };
    },
  },
  {
    name: 'supersede',
    about: 'makeSupersedingJob across processes: enqueue B → running A’s signal fires; idle Redis traffic with 0/10/100 running jobs',
    quick: { BENCH_SAMPLES: '50', BENCH_WINDOW_S: '3' },
    headline(out) {
      const rows: Row[] = [];
      const pick = (label: string) => {
        const l = lines(out).find((x) => x.startsWith(label));
        const m = l && /(\S+) (ms|µs)\s+(\S+) (ms|µs)\s+(\S+) (ms|µs)\s+(\S+) (ms|µs)\s*$/.exec(l);
        return m ? { p50: `${m[1]} ${m[2]}`, p99: `${m[5]} ${m[6]}`, max: `${m[7]} ${m[8]}` } : undefined;
      };
      const headline = pick('enqueue B → A.signal fired (HEADLINE');
      const quiet = pick('enqueue B → A.signal fired (private Redis)');
      const raw = pick('raw BullMQ worker.cancelJob');
      const enqueue = lines(out).filter((l) => l.startsWith('  of which enqueueJob(B) itself took')).map((l) => /(\S+ ms)\s+\S+ ms\s+(\S+ ms)/.exec(l));
      if (headline) rows.push({ figure: 'abort latency p50, across processes (REDIS_URL)', lib: headline.p50, base: raw?.p50 ?? '—', ratio: '' });
      if (headline) rows.push({ figure: 'abort latency p99, across processes (REDIS_URL)', lib: headline.p99, base: raw?.p99 ?? '—', ratio: '' });
      if (quiet) rows.push({ figure: 'abort latency p50 / p99, private redis-server', lib: `${quiet.p50} / ${quiet.p99}`, base: '', ratio: '' });
      if (enqueue[0]) rows.push({ figure: 'of which enqueueJob(B) p50 / p99 (REDIS_URL)', lib: `${enqueue[0][1]} / ${enqueue[0][2]}`, base: '', ratio: '' });
      const trips = /enqueueJob\(B\) while A runs = (\d+) sequential round trips/.exec(out);
      if (trips) rows.push({ figure: 'enqueueJob(B) while A runs: sequential round trips', lib: trips[1]!, base: '', ratio: '' });
      for (const l of section(out, '## 2. Redis traffic')) {
        const m = /^(\d+)\s+([\d.]+)\s/.exec(l);
        if (m) rows.push({ figure: `idle worker: Redis commands/s with ${m[1]} running jobs`, lib: m[2]!, base: '', ratio: '' });
      }
      return {
        libLabel: 'library (makeSupersedingJob, worker in another process)',
        baseLabel: 'raw BullMQ worker.cancelJob (same process: the floor)',
        rows,
        notes: ['The raw figure is BullMQ’s own in-process cancel (no Redis hop), i.e. the floor, not a like-for-like alternative; the seed polled a flag every 500 ms (p99 ≈ 495 ms, modelled).'],
      };
    },
  },
  {
    name: 'enqueue-http',
    about: 'POST /api/admin/job through the real API vs a bare Hono route vs in-process queue.add (autocannon in a child process)',
    quick: { BENCH_SECONDS: '3', BENCH_WARMUP_SECONDS: '1' },
    headline(out) {
      type Http = { rps: number; p50: string; p99: string; serverUs: string; elu: string; redisUs: string };
      const runs = new Map<string, Http>();
      for (const l of section(out, '## HTTP')) {
        const m = new RegExp(
          String.raw`^(bare|enqueue)\s+(\d+)\s+(${NUM})\s+(${NUM})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(${NUM})\s+(${NUM})\s+(${NUM})\s+(${NUM})\s+(${NUM})\s+(${NUM}%)\s+(${NUM}|NaN)\s+(${NUM})\s*$`,
        ).exec(l);
        if (m) runs.set(`${m[1]}@${m[2]}`, { rps: num(m[3]!), p50: m[5]!, p99: m[7]!, serverUs: m[14]!, elu: m[15]!, redisUs: m[16]! });
      }
      const conns = [...new Set([...runs.keys()].map((k) => Number(k.split('@')[1])))].sort((a, b) => a - b);
      const rows: Row[] = [];
      for (const c of conns) {
        const e = runs.get(`enqueue@${c}`);
        const b = runs.get(`bare@${c}`);
        if (!e || !b) continue;
        rows.push({ figure: `req/s at ${c} connections`, lib: e.rps.toLocaleString('en-US'), base: b.rps.toLocaleString('en-US'), ratio: pct(e.rps, b.rps) });
        rows.push({ figure: `latency p50 / p99 at ${c} connections (ms)`, lib: `${e.p50} / ${e.p99}`, base: `${b.p50} / ${b.p99}`, ratio: '' });
        rows.push({ figure: `server CPU µs per request at ${c} connections (ELU)`, lib: `${e.serverUs} (${e.elu})`, base: `${b.serverUs} (${b.elu})`, ratio: pct(num(e.serverUs), num(b.serverUs)) });
        rows.push({ figure: `Redis server CPU µs per request at ${c} connections`, lib: e.redisUs, base: b.redisUs, ratio: '' });
      }
      const add = section(out, '## In-process queue.add')
        .map((l) => new RegExp(String.raw`^\s*(${NUM})\s+([\d.]+) ms\s+([\d.]+) ms\s+([\d.]+) ms\s+([\d.]+) ms\s+(${NUM})\s+(${NUM})\s+([\d.]+)\s*$`).exec(l))
        .find(Boolean);
      const hi = conns.at(-1);
      const eHi = hi === undefined ? undefined : runs.get(`enqueue@${hi}`);
      if (add && eHi) rows.push({ figure: `enqueue at ${hi} connections vs in-process queue.add (100 in flight), jobs/s`, lib: eHi.rps.toLocaleString('en-US'), base: `${add[1]} (queue.add)`, ratio: pct(eHi.rps, num(add[1]!)) });
      if (add) rows.push({ figure: 'in-process queue.add p50 / p99 (ms), CPU µs per add', lib: '', base: `${add[3]} / ${add[4]}, ${add[8]} µs`, ratio: '' });
      return {
        libLabel: 'POST /api/admin/job (real API)',
        baseLabel: 'bare Hono route (same server stack) / queue.add',
        rows,
        notes: ['autocannon latency has whole-ms resolution. The load generator, the API, Redis and the bench share the same CPUs.'],
      };
    },
  },
  {
    name: 'scheduler-sync',
    about: 'cron_job rows → BullMQ job schedulers: first pass into an empty Redis, no-change pass, change → Redis latency',
    quick: { BENCH_ROWS: '2000', BENCH_CHANGED: '20', BENCH_CHANGES: '20' },
    headline(out) {
      const rows: Row[] = [];
      for (const l of section(out, '## Full passes')) {
        const m = /^\s{2}(.+?)\s{2,}([\d.]+ s)\s+(\d+ \/ \d+ \/ \d+ \/ \d+)\s*$/.exec(l);
        if (m) rows.push({ figure: `full pass: ${m[1]} (upserted / removed / unchanged / failed = ${m[3]})`, lib: m[2]!, base: '—', ratio: '' });
      }
      const change = /p50 ([\d.]+ ms) \| p99 ([\d.]+ ms) \| max ([\d.]+ ms)/.exec(out);
      if (change) rows.push({ figure: 'change → Redis p50 / p99 / max', lib: `${change[1]} / ${change[2]} / ${change[3]}`, base: '—', ratio: '' });
      return {
        libLabel: 'scheduler (startCronScheduler)',
        baseLabel: 'raw BullMQ',
        rows,
        notes: ['This bench has no raw-BullMQ side: it times the scheduler against the targets only.'],
      };
    },
  },
  {
    name: 'webhooks',
    about: 'signed webhook deliveries/s from one worker (createWorker + sendWebhook) vs a raw BullMQ Worker that only POSTs',
    quick: { BENCH_JOBS: '1000', BENCH_REPS: '1' },
    headline(out) {
      const rows: Row[] = [];
      const reps = /^\s+(\d+) runs per side and concurrency/m.exec(out)?.[1] ?? '?';
      for (const l of section(out, '## Throughput')) {
        const m = new RegExp(String.raw`^\s*(\d+)\s+(${NUM})\s+(${NUM})\s+(${NUM})\s+(${NUM})\s+(${NUM}%)\s*$`).exec(l);
        if (m) rows.push({ figure: `deliveries/s c=${m[1]} (best of ${reps}; medians ${m[3]} / ${m[5]})`, lib: m[2]!, base: m[4]!, ratio: m[6]! });
      }
      const cpu = new Map<string, string>();
      for (const l of section(out, '## Throughput')) {
        const m = /^\s*c=(\d+)\s+(signed|raw)\s+(\d+) µs CPU\/delivery/.exec(l);
        if (m) cpu.set(`${m[2]}@${m[1]}`, m[3]!);
      }
      for (const c of [...new Set([...cpu.keys()].map((k) => k.split('@')[1]!))]) {
        const s = cpu.get(`signed@${c}`);
        const r = cpu.get(`raw@${c}`);
        if (s) rows.push({ figure: `worker CPU µs per delivery c=${c} (median)`, lib: s, base: r ?? '—', ratio: r ? pct(num(s), num(r)) : '' });
      }
      const sign = /: ([\d.]+) µs CPU\/op → ([\d,]+) ops\/s per core/.exec(out);
      if (sign) rows.push({ figure: 'RSA-2048 signing, CPU µs per delivery (ops/s per core)', lib: `${sign[1]} (${sign[2]})`, base: '', ratio: '' });
      return {
        libLabel: 'signed (createWorker + sendWebhook: SELECT, sign, POST, INSERT)',
        baseLabel: 'raw BullMQ Worker, POST only',
        rows,
        notes: ['The raw side does no signing and no database work: it is the ceiling of the delivery loop, not a like-for-like alternative.'],
      };
    },
  },
  {
    name: 'flow-control',
    about: 'concurrency / rate limits: throughput with limits never reached vs none, Redis commands per job with 10,000 vs 100 waiting, fairness behind a 2,000-job flood',
    quick: { BENCH_JOBS: '2000', BENCH_REPS: '1' },
    headline(out) {
      const rows: Row[] = [];
      const without = new RegExp(String.raw`without limits\s+(${NUM}) jobs/s\s+([\d.]+) µs`).exec(out);
      const withL = new RegExp(String.raw`limits never reached\s+(${NUM}) jobs/s\s+([\d.]+) µs`).exec(out);
      if (without && withL) {
        rows.push({ figure: 'no-op jobs/s, limits never reached (best of runs)', lib: withL[1]!, base: without[1]!, ratio: pct(num(withL[1]!), num(without[1]!)) });
        rows.push({ figure: 'CPU µs per job (median)', lib: withL[2]!, base: without[2]!, ratio: pct(num(withL[2]!), num(without[2]!)) });
      }
      const io = new RegExp(String.raw`5 ms handler .*without (${NUM}) jobs/s, with limits (${NUM}) jobs/s`).exec(out);
      if (io) rows.push({ figure: '5 ms handler jobs/s, limits never reached', lib: io[2]!, base: io[1]!, ratio: pct(num(io[2]!), num(io[1]!)) });
      const small = /100 waiting\s+([\d.]+)/.exec(out);
      const large = /10,000 waiting\s+([\d.]+)/.exec(out);
      if (small && large) rows.push({ figure: 'Redis commands per completed job: 10,000 waiting (lib) vs 100 waiting (base)', lib: large[1]!, base: small[1]!, ratio: `${(num(large[1]!) / num(small[1]!)).toFixed(2)}x` });
      const fair = /start delay p50 (\d+) ms\s+p99 (\d+) ms\s+max (\d+) ms/.exec(out);
      if (fair) rows.push({ figure: "other key's start delay behind a 2,000-job flood, p99 (p50, max) ms", lib: `${fair[2]} (${fair[1]}, ${fair[3]})`, base: '', ratio: '' });
      return { libLabel: 'handler with concurrency / rateLimit', baseLabel: 'same handler without limits (or 100 waiting)', rows, notes: ['Runs on a redis-server of its own (INFO commandstats counts only the bench).'] };
    },
  },
  {
    name: 'idle-rss',
    about: 'VmRSS of each compiled service (NODE_ENV/APP_ENV=production) after idling, next to a bare node:http process',
    quick: { BENCH_IDLE_S: '3', BENCH_RSS_SAMPLES: '3' },
    headline(out) {
      const rows: Row[] = [];
      const table = section(out, '## Idle RSS').map((l) => /^(api|worker|scheduler|bare node)\s+\d+\s+(\d+) ms\s+([\d.]+) MB\s+([\d.]+) MB\s+([\d.]+) MB\s+([\d.]+) MB\s+(\S+(?: MB)?)/.exec(l));
      const bare = table.find((m) => m?.[1] === 'bare node');
      for (const m of table) {
        if (!m || m[1] === 'bare node') continue;
        rows.push({ figure: `${m[1]}: idle RSS max (MB), heap used ${m[7]}`, lib: m[5]!, base: bare?.[5] ?? '—', ratio: bare ? `+${(num(m[5]!) - num(bare[5]!)).toFixed(1)} MB` : '' });
      }
      return { libLabel: 'service (node services/<svc>/dist/main.js)', baseLabel: 'bare node:http process', rows, notes: [] };
    },
  },
  {
    name: 'tracing',
    about: 'OpenTelemetry tracing: worker jobs/s and HTTP enqueue req/s before tracing landed (git worktree) vs off vs on at sampler ratio 1.0 and 0.1',
    quick: { BENCH_JOBS: '3000', BENCH_REPS: '1', BENCH_SECONDS: '3', BENCH_WARMUP_SECONDS: '1' },
    headline(out) {
      const rows: Row[] = [];
      for (const [heading, what] of [['## Worker throughput', 'worker jobs/s'], ['## HTTP enqueue', 'HTTP enqueue req/s']] as const) {
        const table = new Map<string, RegExpExecArray>();
        for (const l of section(out, heading)) {
          const m = new RegExp(String.raw`^(before|off|on@1\.0|on@0\.1)\s+(${NUM})\s+(${NUM}%)\s+([\d.]+)\s+([\d.]+x)`).exec(l);
          if (m) table.set(m[1]!, m);
        }
        const before = table.get('before');
        for (const side of ['off', 'on@1.0', 'on@0.1']) {
          const m = table.get(side);
          if (!m || !before) continue;
          rows.push({ figure: `${what}, tracing ${side} (best)`, lib: m[2]!, base: before[2]!, ratio: m[3]! });
          rows.push({ figure: `${what}: CPU µs each, tracing ${side} (median)`, lib: m[4]!, base: before[4]!, ratio: m[5]! });
        }
      }
      return {
        libLabel: 'this checkout (tracing off / on)',
        baseLabel: 'the commit before tracing',
        rows,
        notes: ['Tracing on exports OTLP/HTTP protobuf to a local sink that discards; every run is a child process of its own.'],
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

interface Verdict {
  ok: boolean;
  text: string;
  /** The heading the line sits under. */
  section: string;
  informational: boolean;
}

interface BenchRun {
  spec: BenchSpec;
  exitCode: number | string;
  seconds: number;
  stdout: string;
  stderr: string;
  env: Record<string, string>;
  load: { before: number[]; after: number[]; samples: number[] };
  verdicts: Verdict[];
}

/** Every `  PASS  …` / `  FAIL  …` line, with the `#` heading above it. */
function verdictsOf(out: string): Verdict[] {
  const found: Verdict[] = [];
  let heading = '';
  for (const l of lines(out)) {
    if (/^#{1,3} /.test(l)) heading = l.replace(/^#+ /, '');
    const m = /^ {2}(PASS|FAIL) {1,2}(.*)$/.exec(l);
    if (m) found.push({ ok: m[1] === 'PASS', text: m[2]!.trim(), section: heading, informational: /informational/i.test(heading) });
  }
  return found;
}

let current: ChildProcess | undefined;
let interrupted = false;

function runBench(spec: BenchSpec): Promise<BenchRun> {
  const env: Record<string, string> = {};
  if (QUICK) for (const [k, v] of Object.entries(spec.quick)) if (process.env[k] === undefined || process.env[k] === '') env[k] = v;
  const script = join(ROOT, `bench/${spec.name}.ts`);
  const before = os.loadavg();
  const started = performance.now();
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(os.loadavg()[0]!), 5_000);
  const child = spawn(TSX, ['--conditions=development', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  current = child;
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    process.stdout.write(d);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearInterval(sampler);
      current = undefined;
      resolve({
        spec,
        exitCode: code ?? signal ?? 'unknown',
        seconds: (performance.now() - started) / 1000,
        stdout,
        stderr,
        env,
        load: { before, after: os.loadavg(), samples },
        verdicts: verdictsOf(stdout),
      });
    });
    child.once('error', (err) => {
      stderr += `\nspawn failed: ${err.message}`;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

interface Machine {
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  redis: string;
  postgres: string;
  packages: string;
  git: string;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function gitState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'shared/src', 'services', 'bench')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    const head = `${git('rev-parse', '--short', 'HEAD')} (${git('log', '-1', '--format=%s').slice(0, 80)})`;
    return dirty.length ? `${head} + ${dirty.length} uncommitted change(s): ${dirty.slice(0, 12).join(', ')}${dirty.length > 12 ? ', …' : ''}` : `${head}, clean`;
  } catch {
    return 'unknown';
  }
}

async function machine(): Promise<Machine> {
  const cpus = os.cpus();
  let redis = '?';
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const info = await r.info('server');
    redis = `${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'} (${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}, same machine)`;
  } catch (err) {
    redis = `unreachable: ${(err as Error).message}`;
  } finally {
    r.disconnect();
  }
  let postgres = '?';
  const client = new pg.Client({ connectionString: DATABASE_URL });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    postgres = `${rows[0]?.server_version ?? '?'} (${DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}, same machine)`;
  } catch (err) {
    postgres = `unreachable: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ''}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB total, ${(os.freemem() / 1024 ** 3).toFixed(1)} GiB free at the start`,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: `${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl})`,
    redis,
    postgres,
    packages: ['bullmq', 'ioredis', 'hono', '@hono/node-server', 'pino', 'undici', 'autocannon'].map((p) => `${p} ${packageVersion(p)}`).join(', '),
    git: gitState(),
  };
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const loads = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

function report(runs: BenchRun[], m: Machine, startedAt: Date, endedAt: Date, loadBefore: number[], loadAfter: number[], skipped: string[]): string {
  const out: string[] = [];
  const w = (s = '') => out.push(s);
  const counted = runs.flatMap((r) => r.verdicts.filter((v) => !v.informational));
  const passed = counted.filter((v) => v.ok).length;
  w('# Benchmark results');
  w();
  w(`Generated by \`npm run bench\` (bench/run-all.ts)${QUICK ? ' with **BENCH_QUICK=1 (reduced sizes: not the reference figures)**' : ''}. Each bench ran as its own child process, one after another;`);
  w('every comparison in a row (library vs raw BullMQ / bare route) was measured in the same run of that bench, on the same machine.');
  w();
  w('| | |');
  w('|---|---|');
  w(`| Date | ${startedAt.toISOString()} → ${endedAt.toISOString()} (${((endedAt.getTime() - startedAt.getTime()) / 60_000).toFixed(1)} min) |`);
  w(`| CPU | ${cell(m.cpu)} |`);
  w(`| Memory | ${m.memory} |`);
  w(`| OS | ${m.kernel} |`);
  w(`| Node | ${m.node} |`);
  w(`| Redis | ${cell(m.redis)} |`);
  w(`| Postgres | ${cell(m.postgres)} |`);
  w(`| Packages | ${m.packages} |`);
  w(`| Code | ${cell(m.git)} |`);
  w(`| Load average (1/5/15 min) | before ${loads(loadBefore)}, after ${loads(loadAfter)} |`);
  w();
  w(`**Shared machine.** Other work runs on these ${os.cpus().length} CPUs (other sessions' tests and builds), and Redis, Postgres, the load generators`);
  w('and the measured processes all share them too. Load raises wall-clock figures (rates, latencies) run to run; the benches');
  w('therefore report best-of-N rates and CPU time per operation next to them. Per-bench load averages are listed in each section.');
  w();
  w(`## Targets (${passed}/${counted.length} pass${runs.some((r) => r.exitCode !== 0) ? '; a bench failed to run, see below' : ''})`);
  w();
  w('| Bench | Result | Target line (as printed by the bench) |');
  w('|---|---|---|');
  for (const r of runs) {
    if (r.exitCode !== 0) w(`| ${r.spec.name} | **ERROR** | exited ${r.exitCode}: see its section |`);
    for (const v of r.verdicts) w(`| ${r.spec.name} | ${v.ok ? 'PASS' : '**FAIL**'}${v.informational ? ' (info)' : ''} | ${cell(v.text)} |`);
    if (r.exitCode === 0 && r.verdicts.length === 0) w(`| ${r.spec.name} | — | no PASS/FAIL lines found in its output |`);
  }
  for (const s of skipped) w(`| ${s} | not run | |`);
  w();
  w('(info) = informational lines the bench prints under a heading marked so (e.g. the same targets for the logger at warn); they are not counted.');
  w();
  for (const r of runs) {
    w(`## ${r.spec.name}`);
    w();
    w(`${r.spec.about}. \`npm run bench:${r.spec.name}\`${Object.keys(r.env).length ? ` with ${Object.entries(r.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''};`);
    const mean = r.load.samples.length ? r.load.samples.reduce((a, b) => a + b, 0) / r.load.samples.length : Number.NaN;
    w(`ran ${r.seconds.toFixed(0)} s, exit ${r.exitCode}; 1-min load average ${r.load.before[0]!.toFixed(2)} → ${r.load.after[0]!.toFixed(2)}${r.load.samples.length ? ` (mean ${mean.toFixed(2)}, max ${Math.max(...r.load.samples).toFixed(2)} over the run)` : ''}.`);
    w();
    let h: Headline | undefined;
    try {
      h = r.spec.headline(r.stdout);
    } catch (err) {
      w(`(headline figures could not be read from the output: ${(err as Error).message})`);
    }
    if (h && h.rows.length) {
      w(`| Figure | ${cell(h.libLabel)} | ${cell(h.baseLabel)} | lib / base |`);
      w('|---|---:|---:|---:|');
      for (const row of h.rows) w(`| ${cell(row.figure)} | ${cell(row.lib)} | ${cell(row.base)} | ${cell(row.ratio)} |`);
      w();
      for (const n of h.notes) w(`${n}`);
      if (h.notes.length) w();
    } else if (h) {
      w('(no headline figures found in the output; see the full output below)');
      w();
    }
    if (r.verdicts.length) {
      w('```text');
      for (const v of r.verdicts) w(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.text}${v.informational ? '   [informational]' : ''}`);
      w('```');
      w();
    }
    w('<details><summary>Full output (stdout)</summary>');
    w();
    w('```text');
    w(r.stdout.trimEnd().replace(/```/g, "'''"));
    w('```');
    w();
    w('</details>');
    if (r.exitCode !== 0) {
      w();
      w('<details><summary>stderr (last 60 lines; the bench failed)</summary>');
      w();
      w('```text');
      w(r.stderr.trimEnd().split('\n').slice(-60).join('\n').replace(/```/g, "'''"));
      w('```');
      w();
      w('</details>');
    }
    w();
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------

const asked = process.argv.slice(2).filter((a) => a !== '--');
const unknown = asked.filter((a) => !BENCHES.some((b) => b.name === a));
if (unknown.length) {
  console.error(`unknown bench(es): ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = asked.length ? BENCHES.filter((b) => asked.includes(b.name)) : BENCHES;
const full = !QUICK && selected.length === BENCHES.length;
const resultsPath = process.env.BENCH_RESULTS || join(ROOT, full ? 'bench/RESULTS.md' : 'bench/out/RESULTS.md');

process.on('SIGINT', () => {
  // The terminal sends SIGINT to the running bench too; it cleans up and exits. Run nothing after it.
  interrupted = true;
});
process.on('SIGTERM', () => {
  interrupted = true;
  current?.kill('SIGINT');
});

const startedAt = new Date();
const loadBefore = os.loadavg();
const m = await machine();
console.log(`# npm run bench: ${selected.map((b) => b.name).join(', ')}${QUICK ? ' (BENCH_QUICK=1)' : ''} → ${relative(ROOT, resultsPath)}`);
console.log(`machine: ${m.cpu} | ${m.memory} | node ${process.version} | redis ${m.redis} | postgres ${m.postgres} | load ${loads(loadBefore)}\n`);
mkdirSync(OUT_DIR, { recursive: true });
const runs: BenchRun[] = [];
for (const spec of selected) {
  if (interrupted) break;
  console.log(`\n==================== ${spec.name} ====================\n`);
  const run = await runBench(spec);
  runs.push(run);
  writeFileSync(join(OUT_DIR, `${spec.name}.log`), `${run.stdout}\n--- stderr ---\n${run.stderr}`);
  const v = run.verdicts.filter((x) => !x.informational);
  console.log(`\n[${spec.name}] exit ${run.exitCode} after ${run.seconds.toFixed(0)} s: ${v.filter((x) => x.ok).length}/${v.length} targets pass`);
}
if (interrupted) {
  console.error(`\ninterrupted: ${relative(ROOT, resultsPath)} not written (per-bench logs are in bench/out/)`);
  process.exit(130);
}
const skipped = BENCHES.filter((b) => !selected.includes(b)).map((b) => b.name);
mkdirSync(dirname(resultsPath), { recursive: true });
writeFileSync(resultsPath, report(runs, m, startedAt, new Date(), loadBefore, os.loadavg(), skipped));
const counted = runs.flatMap((r) => r.verdicts.filter((v) => !v.informational));
console.log(`\n## Summary → ${relative(ROOT, resultsPath)}`);
for (const r of runs) for (const v of r.verdicts.filter((x) => !x.informational)) console.log(`  ${v.ok ? 'PASS' : 'FAIL'}  [${r.spec.name}] ${v.text}`);
console.log(`${counted.filter((v) => v.ok).length}/${counted.length} targets pass${runs.some((r) => r.exitCode !== 0) ? `; failed to run: ${runs.filter((r) => r.exitCode !== 0).map((r) => r.spec.name).join(', ')}` : ''}`);
process.exitCode = runs.some((r) => r.exitCode !== 0) ? 1 : 0;
