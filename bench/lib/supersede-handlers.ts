/**
 * The handler bench/supersede.ts measures: a superseding job that waits `ms` or until its
 * `ctx.signal` fires, and reports (on stdout, not Redis, so it adds no Redis traffic of its own)
 * when it started and the instant the signal fired. Imported by the bench (to enqueue) and by
 * the worker child (to run).
 */
import { z } from 'zod';
import { makeSupersedingJob } from '../../shared/src/jobs/make-job.js';
import { redisNamespace } from '../../shared/src/redis/namespace.js';

/** One line per event on the child's stdout: `BENCH_LINE_MARK` + JSON. */
export const BENCH_LINE_MARK = '@@bench ';

export type ChildEvent =
  | { ev: 'ready'; pid: number; hrNs: string; nowMs: number }
  | { ev: 'start'; jobId: string; tag: string }
  | { ev: 'abort'; jobId: string; tag: string; hrNs: string; nowMs: number; reason: string }
  | { ev: 'end'; jobId: string; tag: string; aborted: boolean };

let muted = false;

/** Stops all output (the bench that reads it is gone). */
export function muteEvents(): void {
  muted = true;
}

export function emit(event: ChildEvent): void {
  if (!muted) process.stdout.write(`${BENCH_LINE_MARK}${JSON.stringify(event)}\n`);
}

export interface WaiterPayload {
  key: string;
  tag: string;
  /** How long to run if not aborted. */
  ms: number;
}

export const waiter = makeSupersedingJob<WaiterPayload>(
  async (ctx, payload) => {
    // Listener first, timestamps first: "signal fired" is the moment the abort event is dispatched.
    const onAbort = () => {
      const hrNs = process.hrtime.bigint();
      const nowMs = Date.now();
      emit({ ev: 'abort', jobId: ctx.jobId, tag: payload.tag, hrNs: hrNs.toString(), nowMs, reason: String(ctx.signal.reason) });
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    emit({ ev: 'start', jobId: ctx.jobId, tag: payload.tag });
    const aborted = await new Promise<boolean>((resolve) => {
      if (ctx.signal.aborted) return resolve(true);
      const timer = setTimeout(() => resolve(false), payload.ms);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(true)), { once: true });
    });
    emit({ ev: 'end', jobId: ctx.jobId, tag: payload.tag, aborted });
  },
  (payload) => `${redisNamespace.job}:bench:${payload.key}`,
  { schema: z.object({ key: z.string(), tag: z.string(), ms: z.number().int().min(0) }) },
);

export const benchHandlers = { waiter };
