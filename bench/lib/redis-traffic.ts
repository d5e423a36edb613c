/**
 * Counts the commands a set of Redis connections issues, from MONITOR on a server where the
 * bench is (nearly) alone: each top-level command with its client address, plus the calls made
 * inside Lua scripts (MONITOR shows those as coming from `lua`). BullMQ's EVALSHAs are named
 * after the script they run.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

export interface MonitorRecord {
  /** Server time, ms since the epoch. */
  atMs: number;
  /** `ip:port` of the client, or `lua` for a call made inside a script. */
  source: string;
  /** Lower-case command name; an EVALSHA of a BullMQ script is `evalsha(<script>)`. */
  command: string;
  /** First key or channel, for attributing reads (e.g. the "latest" key). */
  firstArg: string | undefined;
  /** Rough request size: the length of the arguments as MONITOR prints them (binary is escaped, so ≈). */
  bytes: number;
}

/** sha1 of each BullMQ Lua script → its name (`extendLocks`, `moveToActive`, …). */
function bullScriptNames(): Map<string, string> {
  const names = new Map<string, string>();
  try {
    const scripts = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<string, { name: string; content: string }>;
    for (const script of Object.values(scripts)) {
      if (script && typeof script.content === 'string') names.set(createHash('sha1').update(script.content).digest('hex'), script.name);
    }
  } catch {
    // Unknown layout: EVALSHAs stay unnamed.
  }
  return names;
}

export interface TrafficRecorder {
  readonly records: readonly MonitorRecord[];
  /** Records whose server time is in [fromMs, toMs). */
  between(fromMs: number, toMs: number): MonitorRecord[];
  stop(): Promise<void>;
}

/** Starts MONITOR on a duplicate of `redis` (the MONITOR connection itself never shows up). */
export async function startTrafficRecorder(redis: Redis): Promise<TrafficRecorder> {
  const scriptNames = bullScriptNames();
  const records: MonitorRecord[] = [];
  const monitor = await redis.monitor();
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    const name = (args[0] ?? '?').toLowerCase();
    const command = name === 'evalsha' ? `evalsha(${scriptNames.get(args[1] ?? '') ?? args[1]?.slice(0, 8)})` : name;
    const firstArg = name === 'evalsha' || name === 'eval' ? args[3] : args[1];
    records.push({ atMs: Number(time) * 1_000, source, command, firstArg, bytes: args.reduce((n, a) => n + a.length, 0) });
  });
  return {
    records,
    between: (fromMs, toMs) => records.filter((r) => r.atMs >= fromMs && r.atMs < toMs),
    stop: async () => {
      monitor.disconnect();
    },
  };
}

/** Client addresses (`ip:port`) and names of the server's connections, from CLIENT LIST. */
export async function clientList(redis: Redis): Promise<{ id: string; addr: string; name: string; flags: string; sub: number; cmd: string }[]> {
  const text = (await redis.client('LIST')) as string;
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = new Map(line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
      return { id: fields.get('id') ?? '', addr: fields.get('addr') ?? '', name: fields.get('name') ?? '', flags: fields.get('flags') ?? '', sub: Number(fields.get('sub') ?? 0), cmd: fields.get('cmd') ?? '' };
    });
}

/** `INFO commandstats` as command → calls (inner Lua calls included, as Redis counts them). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  return calls;
}

/** after − before, per command, zeros dropped. */
export function diffCalls(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const diff = new Map<string, number>();
  for (const [command, n] of after) {
    const d = n - (before.get(command) ?? 0);
    if (d > 0) diff.set(command, d);
  }
  return diff;
}
