/**
 * An in-process V8 CPU profile (node:inspector, like `--cpu-prof` but for one measured run only),
 * summarised as self time per package / node module, the top functions, and the inclusive time of
 * a few named functions (the synchronous part of their call trees).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Starts profiling this process; the returned function stops and returns the profile. */
export async function startCpuProfile(samplingIntervalUs = 500): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    await session.post('Profiler.disable');
    session.disconnect();
    return profile;
  };
}

/** Writes the profile where Chrome DevTools / speedscope can open it. */
export async function saveCpuProfile(profile: CpuProfile, path: string): Promise<void> {
  await writeFile(path, JSON.stringify(profile));
}

export interface ProfileSummary {
  totalMs: number;
  /** Category → self ms, descending. */
  categories: [string, number][];
  /** "function (file)" → self ms, descending. */
  functions: [string, number][];
  /** Function name → ms spent in it and everything it called synchronously. */
  inclusive: Record<string, number>;
}

/** Where a frame's code lives: a package, a node built-in, or V8's pseudo-frames. */
function categoryOf(url: string, functionName: string): string | undefined {
  if (functionName === '(idle)') return 'idle (event loop waiting)';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url.startsWith('wasm://')) return 'wasm (undici llhttp parser)';
  if (!url) return undefined; // a native function: charged to its JS caller's category
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, '').split('/')[0]}`;
  const own = /\/(shared|bench|services)\/src\/|\/(bench)\//.exec(url);
  if (own) return `repo ${own[1] ?? own[2]}`;
  return url;
}

function fileOf(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg) return `${pkg[1]}/${pkg[2]!.split('/').pop()}`;
  return url.replace(/^file:\/\/.*?\/(shared|bench|services)\//, '$1/').replace(/^node:/, 'node:');
}

/**
 * `inclusiveOf` lists functions as `name` or `name@file` (a substring of the frame's URL, to tell
 * apart functions that share a name).
 */
export function summarizeCpuProfile(profile: CpuProfile, inclusiveOf: readonly string[] = []): ProfileSummary {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node from the samples (timeDeltas[i + 1] is how long sample i lasted).
  const selfMs = new Map<number, number>();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    const ms = (timeDeltas[i + 1] ?? 0) / 1000;
    selfMs.set(samples[i]!, (selfMs.get(samples[i]!) ?? 0) + ms);
  }

  const categoryCache = new Map<number, string>();
  const categoryOfNode = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const n = byId.get(id)!;
    let category = categoryOf(n.callFrame.url, n.callFrame.functionName);
    if (category === undefined) {
      const up = parent.get(id);
      category = up === undefined || byId.get(up)!.callFrame.functionName === '(root)' ? 'V8/native (no JS caller)' : categoryOfNode(up);
    }
    categoryCache.set(id, category);
    return category;
  };

  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>(inclusiveOf.map((f) => [f, 0]));
  for (const [id, ms] of selfMs) {
    const n = byId.get(id)!;
    const category = categoryOfNode(id);
    categories.set(category, (categories.get(category) ?? 0) + ms);
    const name = `${n.callFrame.functionName || '(anonymous)'}${n.callFrame.url ? ` (${fileOf(n.callFrame.url)})` : ` [native, in ${category}]`}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    // Charge the sample to each named ancestor once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url } = byId.get(cur)!.callFrame;
      for (const spec of inclusiveOf) {
        const [name, file] = spec.split('@');
        if (name !== functionName || (file && !url.includes(file)) || seen.has(spec)) continue;
        inclusive.set(spec, inclusive.get(spec)! + ms);
        seen.add(spec);
      }
    }
  }
  const desc = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs, categories: desc(categories), functions: desc(functions), inclusive: Object.fromEntries(inclusive) };
}
