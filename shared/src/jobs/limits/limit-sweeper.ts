import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import type { JobLimits } from './limit-options.js';
import { limitStateOfMember, runWake } from './limit-gate.js';
import { dueScript } from './limit-scripts.js';

/** Longest pause between two looks at the due index (also the bound on a missed wake-up). */
const IDLE_TICK_MS = 1_000;
/** States woken per tick at most. */
const BATCH = 50;

export interface LimitSweeper {
  /** Look at the due index in `inMs` (sooner than planned only). */
  dueIn(inMs: number): void;
  stop(): void;
}

/**
 * Wakes parked jobs whose room frees by itself: a rate window sliding on, a dead holder's lease
 * expiring, a pause ending, or a release whose wake-up was lost. One per worker process and
 * queue; it reads the queue's due index (states with parked jobs, by when they are due), so its
 * cost is one Redis call per tick whatever the number of waiting jobs, plus one per due state.
 * Ticks at least every second, and exactly when the next state is due. Stops with its connection.
 */
export function startLimitSweeper(redis: Redis, keys: RedisKeys, limitsOf: (handler: string) => JobLimits<unknown> | undefined): LimitSweeper {
  let timer: NodeJS.Timeout | undefined;
  let nextAt = Infinity;
  let stopped = false;
  let running = false;

  const schedule = (inMs: number) => {
    if (stopped) return;
    const at = performance.now() + Math.max(0, inMs);
    if (timer && at >= nextAt) return;
    clearTimeout(timer);
    nextAt = at;
    timer = setTimeout(tick, Math.max(0, inMs));
    timer.unref();
  };

  const tick = () => {
    timer = undefined;
    nextAt = Infinity;
    if (running || stopped) return schedule(IDLE_TICK_MS);
    running = true;
    sweep().then(
      (inMs) => {
        running = false;
        schedule(inMs >= 0 ? Math.min(inMs, IDLE_TICK_MS) : IDLE_TICK_MS);
      },
      () => {
        running = false;
        schedule(IDLE_TICK_MS); // Redis unreachable for now: try again later
      },
    );
  };

  const sweep = async (): Promise<number> => {
    const [members, nextInMs] = (await dueScript.run(redis, [keys.limitDue], [BATCH])) as [string[], number];
    let soonest = nextInMs;
    for (const member of members) {
      const state = limitStateOfMember(keys, member, limitsOf);
      if (!state) continue; // a handler another process runs
      const inMs = await runWake(redis, keys, state);
      if (inMs >= 0 && (soonest < 0 || inMs < soonest)) soonest = inMs;
    }
    // A full batch: more may be due now.
    return members.length >= BATCH ? 0 : soonest;
  };

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  redis.once('end', stop);
  schedule(0);
  return { dueIn: (inMs) => schedule(inMs), stop };
}
