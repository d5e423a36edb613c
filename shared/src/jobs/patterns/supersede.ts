import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../redis/namespace.js';
import { AbortReason } from '../abort/abort-reason.js';
import { requestAbort } from '../abort/request-abort.js';
import { supersedeSeqOf } from '../envelope.js';
import { claimAtStartScript, handOverScript, releaseScript } from './supersede-scripts.js';

// Ordering. "Newest" means newest by enqueue order, and the order is an integer stamp that Redis
// hands out (INCR of one counter per queue) BEFORE the job is added; it is stored in the job's
// data (`supersedeSeq`) and next to the job id in the key's "latest" pointer. Every change of the
// pointer is a Lua script that compares stamps, so the pointer only moves forward: when two
// enqueues race (add A, add B, hand over B, hand over A) A's handover finds B's larger stamp and
// A is the one removed. Why not the alternatives: BullMQ's job timestamp is the producer's clock
// (not ordered across processes, equal within a millisecond); generated job ids are ordered but
// custom ids (`idem-…`, outbox ids) are not numbers; and doing add + handover in one script would
// mean copying BullMQ's own add script. The stamp costs one INCR per superseding enqueue.
//
// Lifetime. The pointer lives as long as its job can still run: its TTL is the job's delay +
// POINTER_TTL_MS at enqueue and POINTER_TTL_MS again when the job starts (each attempt). When the
// job finishes for good, or is cancelled before it started, the pointer keeps only the stamp for
// TOMBSTONE_TTL_MS (an older enqueue still on its way cannot take the key over) and then goes. A
// job trimmed or removed behind our back (BullBoard) leaves a pointer that lapses within the TTL,
// and meanwhile the run-start check does not count a pointer to a gone or finished job as newer.

/** How long a pointer outlives its job's due time or last start: a backlog or a long run fit in it. */
export const POINTER_TTL_MS = 24 * 3600_000;
/** How long the stamp of a finished or cancelled latest job is kept, to fend off slower, older enqueues. */
export const TOMBSTONE_TTL_MS = 60_000;

/** `flagTtlMs`: the abort flag's lifetime for the workers' lock duration (request-abort.ts). */
type SupersedeDeps = { queue: Queue; redis: Redis; keys: RedisKeys; flagTtlMs?: number };

/** The next enqueue order stamp of the queue; take it before `queue.add` and store it in the job's data. */
export async function takeSupersedeSeq(redis: Redis, keys: RedisKeys): Promise<number> {
  return redis.incr(keys.supersedeSeq);
}

/**
 * Makes `newJobId` (just added, its stamp in its data) the latest job of `latestKey` if no job
 * with a larger stamp holds it, and retires the loser: the job it replaces, or itself if a newer
 * one got there first. Retiring means told to abort (on whatever process runs it) and removed if
 * it has not started. Never two waiting with the same key, and the survivor is the newest by stamp.
 *
 * @param options.stamp the stamp the enqueuer took (used only if the job is already gone)
 * @param options.delayMs the job's delay, added to the pointer's TTL
 */
export async function supersedeOlder(
  deps: SupersedeDeps,
  latestKey: string,
  newJobId: string,
  options: { stamp?: number; delayMs?: number } = {},
): Promise<void> {
  const { redis, keys } = deps;
  const ttlMs = (options.delayMs ?? 0) + POINTER_TTL_MS;
  const args = [newJobId, options.stamp ?? 0, ttlMs, TOMBSTONE_TTL_MS, keys.jobHash('')];
  const [outcome, other, state] = (await handOverScript.run(redis, [latestKey, keys.jobHash(newJobId)], args)) as [number, string, RetireeState];
  if (outcome === 1 && other) await retire(deps, other, newJobId, state);
  // Lost the race: a job enqueued after this one (a larger stamp) is already the latest.
  else if (outcome === 0) await retire(deps, newJobId, other || undefined, state);
}

/** What the handover script saw of the job to retire; see supersede-scripts.ts. */
type RetireeState = 'running' | 'pending' | 'finished' | 'gone';

/** Aborts `jobId` (superseded by `by`) if it runs and removes it if it has not started. */
async function retire(deps: SupersedeDeps, jobId: string, by: string | undefined, state: RetireeState): Promise<void> {
  const { queue, redis, keys } = deps;
  // Not started: remove it. If removal fails (0), it started meanwhile: abort it then. The abort
  // is sent only to a job that runs: its flag outlives the request, and a removed job's id can
  // come back (custom ids), whose run must not read a stale "superseded".
  if (state === 'finished' || state === 'gone') return;
  if (state === 'pending' && (await queue.remove(jobId)) === 1) return;
  await requestAbort(redis, keys, { jobId, reason: AbortReason.superseded, ...(by ? { by } : {}) }, deps.flagTtlMs);
}

/**
 * At run start: is there a job newer than `job` for its key? Returns `{ by }` (the newer job's
 * id, if it still exists) when this run must end superseded, else undefined.
 * A stamped job compares stamps (and renews or re-takes the pointer if it is the latest). A job
 * without a stamp (a cron run made by BullMQ's job scheduler, a foreign producer's job) is
 * superseded only by a pointer job that still exists, has not finished, and was enqueued after it.
 */
export async function newerAtStart(redis: Redis, keys: RedisKeys, latestKey: string, job: Pick<Job, 'id' | 'data' | 'timestamp'>): Promise<{ by: string | undefined } | undefined> {
  const jobId = job.id!;
  const stamp = supersedeSeqOf(job.data);
  if (stamp !== undefined) {
    const [current, newer] = (await claimAtStartScript.run(redis, [latestKey], [jobId, stamp, POINTER_TTL_MS])) as [number, string];
    return current === 0 ? { by: newer || undefined } : undefined;
  }
  const { jobId: latest } = parsePointer(await redis.get(latestKey));
  if (!latest || latest === jobId) return undefined;
  const [enqueuedAt, finishedOn] = await redis.hmget(keys.jobHash(latest), 'timestamp', 'finishedOn');
  if (!enqueuedAt || finishedOn) return undefined; // gone (cancelled, removed, trimmed) or finished
  return Number(enqueuedAt) > job.timestamp ? { by: latest } : undefined;
}

/** The pointer's stamp and job id (undefined when it names no job), e.g. for tests and tooling. */
export function parsePointer(value: string | null): { stamp: number | undefined; jobId: string | undefined } {
  if (value === null) return { stamp: undefined, jobId: undefined };
  const match = /^(\d+) (.*)$/s.exec(value);
  if (!match) return { stamp: 0, jobId: value }; // written before order stamps existed
  return { stamp: Number(match[1]), jobId: match[2] || undefined };
}

/**
 * Forgets `jobId` as the latest of its key once it has finished for good or was cancelled before
 * it started (unless a newer one took over): the pointer keeps only the stamp, briefly.
 */
export async function releaseLatest(redis: Redis, latestKey: string, jobId: string): Promise<void> {
  await releaseScript.run(redis, [latestKey], [jobId, TOMBSTONE_TTL_MS]);
}
