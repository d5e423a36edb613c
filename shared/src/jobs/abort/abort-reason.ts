/**
 * Why a running job's `ctx.signal` fired; it is the signal's `reason`.
 * - `superseded`: a newer job with the same key was enqueued; the run ends as superseded.
 * - `cancelled`: someone cancelled the job; the run ends failed with {@link CANCELLED_REASON}, no retry.
 * - `shutdown`: the worker's shutdown timeout passed; the job goes back to the queue, no attempt spent.
 * - `lockLost`: a singleton run's lock renewal found the lock gone (expired, or taken by another
 *   holder), or renewals kept failing until its TTL had passed; another run may hold it now, so
 *   this one must stop. The job goes back to the queue, no attempt spent.
 *
 * `shutdown` and `lockLost` put the job back whether the handler returns or throws after the
 * abort: under the `if (ctx.signal.aborted) return` convention a return may mean "stopped early".
 */
export const AbortReason = {
  superseded: 'superseded',
  cancelled: 'cancelled',
  shutdown: 'shutdown',
  lockLost: 'lockLost',
} as const;
export type AbortReason = (typeof AbortReason)[keyof typeof AbortReason];

/** Reasons after which the job goes back to the queue (no attempt spent) instead of ending. */
export function putsJobBack(reason: AbortReason): boolean {
  return reason === AbortReason.shutdown || reason === AbortReason.lockLost;
}

/** `failedReason` of a cancelled job. */
export const CANCELLED_REASON = 'job cancelled';

/** Return value of a superseded run (a completed job, not a failed one). */
export interface SupersededResult {
  $outcome: 'superseded';
  supersededBy: string | undefined;
}

export function isSupersededResult(value: unknown): value is SupersededResult {
  return typeof value === 'object' && value !== null && (value as { $outcome?: unknown }).$outcome === 'superseded';
}

/** The message on the abort channel. */
export interface AbortMessage {
  jobId: string;
  reason: typeof AbortReason.superseded | typeof AbortReason.cancelled;
  /** For supersede: the id of the newer job. */
  by?: string;
}

export function parseAbortMessage(raw: string): AbortMessage | undefined {
  try {
    const msg = JSON.parse(raw) as Partial<AbortMessage>;
    if (typeof msg.jobId !== 'string') return undefined;
    if (msg.reason !== AbortReason.superseded && msg.reason !== AbortReason.cancelled) return undefined;
    return { jobId: msg.jobId, reason: msg.reason, ...(typeof msg.by === 'string' ? { by: msg.by } : {}) };
  } catch {
    return undefined;
  }
}
