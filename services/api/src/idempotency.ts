import { createHash } from 'node:crypto';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueUnavailableError, type EnqueueOptions, type HandlerMap } from '@jobs/shared';
import { redisCall, toBullJobOptions } from '@jobs/shared/jobs';
import type { RedisKeys } from '@jobs/shared/redis';

/**
 * How long the key's record (body hash → job id) is kept, from the first request (as Stripe does).
 * The job id itself is derived from the key, so a repeat also finds the job after the record
 * expired, for as long as BullMQ keeps the job (see README, "The HTTP API").
 */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** Bound on each of our own Redis calls, as the job client bounds its own (503, not a hang). */
const REDIS_TIMEOUT_MS = 5_000;

/** What a request with an `Idempotency-Key` asks to enqueue (the validated body). */
export interface IdempotentRequest {
  handler: string;
  payload: unknown;
  options?: Omit<EnqueueOptions, 'jobId' | 'type' | 'cronJobId'>;
}

export type IdempotentOutcome = { kind: 'created'; jobId: string } | { kind: 'replay'; jobId: string } | { kind: 'mismatch' };

export interface IdempotencyDeps {
  redis: Redis;
  keys: RedisKeys;
  /** The default queue; where the job is looked up unless `locate` says otherwise. */
  queue: Queue;
  handlers: HandlerMap;
  /**
   * The queue a job of `handler` with BullMQ id `bullId` is on, and the id callers see for it
   * (`<queue>~<id>` off the default queue, SPEC §12). Default: the default queue, the id as is.
   */
  locate?(handler: string, bullId: string): { queue: Queue; ref: string };
  /** Enqueues the request with the given BullMQ job id; returns the id the job client answered with. */
  enqueue(jobId: string): Promise<string>;
}

/**
 * The BullMQ job id of a key: `idem-` + base64url(sha256(actor \n key)), 48 URL-safe characters
 * (no `:`, never an integer). Because the id is fixed by the key, BullMQ itself refuses a second
 * job for it (an add with an existing id returns that job), whatever happened to the first
 * request: a reply lost to a timeout, or an API that died before answering.
 */
export function idempotentJobId(actor: string, key: string): string {
  return `idem-${createHash('sha256').update(`${actor}\n${key}`).digest('base64url')}`;
}

/**
 * `POST /job` with an `Idempotency-Key`. The body hash is recorded first (SET NX, kept 24 h), so a
 * repeat with another body is refused (`mismatch`) even while the first is still enqueueing or
 * after it failed half-way. Then the job is added under {@link idempotentJobId}: a repeat, a
 * concurrent duplicate or a retry after a 503 gets that same job (`replay`), never a second one.
 * Without a record (it expired, or was never written) but with the job present, the job's own
 * handler, payload and options are compared with the request instead.
 */
export async function enqueueIdempotently(deps: IdempotencyDeps, actor: string, key: string, request: IdempotentRequest): Promise<IdempotentOutcome> {
  const hash = createHash('sha256').update(`${actor}\n${key}`).digest('hex');
  const recordKey = deps.keys.idempotency(hash);
  const fingerprint = sha256(canonicalJson(request));
  const record = await bounded(() => claimRecord(deps.redis, recordKey, fingerprint));
  if (record.kind === 'mismatch') return record;
  if (record.kind === 'committed') return { kind: 'replay', jobId: record.jobId };

  const jobId = idempotentJobId(actor, key);
  const commit = (id: string) => bounded(() => deps.redis.set(recordKey, JSON.stringify({ fingerprint, jobId: id }), 'EX', IDEMPOTENCY_TTL_SECONDS));
  // Only a record this request wrote is taken back, and only when nothing can have been added.
  const abandon = () => (record.kind === 'claimed' ? bounded(() => deps.redis.del(recordKey)).catch(() => undefined) : undefined);

  // Looked up before adding: a repeat must not run the add again (for a superseding handler the
  // add also supersedes the previous job, which a replay must not do to a newer one).
  const at = deps.locate ? deps.locate(request.handler, jobId) : { queue: deps.queue, ref: jobId };
  const existing = await bounded(() => at.queue.getJob(jobId));
  if (existing) {
    // A record with our hash means this job came from this very body. Without one, the job is
    // the only witness of what the key was first used for.
    if (record.kind === 'claimed' && !sameRequest(existing, deps.handlers, request)) {
      await abandon();
      return { kind: 'mismatch' };
    }
    await commit(at.ref);
    return { kind: 'replay', jobId: at.ref };
  }
  let id: string;
  try {
    // With `dedupeKey`, BullMQ may answer with the id of an equal unfinished job instead.
    id = await deps.enqueue(jobId);
  } catch (err) {
    // Redis trouble: the add may still land after we gave up, so the record (and with it the
    // body check) stays; a retry with this body finds the job or adds it, never a second one.
    if (!(err instanceof QueueUnavailableError)) await abandon();
    throw err;
  }
  await commit(id);
  return { kind: 'created', jobId: id };
}

/**
 * The BullMQ job id of job `index` of a batch sent with an `Idempotency-Key`:
 * `idem-` + base64url(sha256(JSON `["batch", actor, key, index]`)). JSON keeps the parts apart
 * (no actor and key can be read as another pair) and never holds a raw newline, so no batch id is
 * ever a single request's id ({@link idempotentJobId} hashes `actor \n key`).
 */
export function idempotentBatchJobId(actor: string, key: string, index: number): string {
  return `idem-${createHash('sha256').update(JSON.stringify(['batch', actor, key, index])).digest('base64url')}`;
}

export type IdempotentBatchOutcome = { kind: 'created'; jobIds: string[] } | { kind: 'replay'; jobIds: string[] } | { kind: 'mismatch' };

export interface BatchIdempotencyDeps {
  redis: Redis;
  /** Keys of the default queue: the record lives there, as for a single request. */
  keys: RedisKeys;
  handlers: HandlerMap;
  /**
   * Where job `index`'s derived id would be: its queue (to look it up) and the id callers see.
   */
  locate(handler: string, bullId: string): { queue: Queue; ref: string };
  /** Enqueues these jobs (each with its derived `jobId`) in one batch; ids in order. */
  enqueue(jobs: (IdempotentRequest & { options: EnqueueOptions })[]): Promise<string[]>;
}

/**
 * `POST /job/batch` with an `Idempotency-Key`: the single request's design (record first, ids
 * derived from the key so BullMQ itself refuses a second add), per job of the batch. The record
 * (same Redis key as a single request's, so one key is never both) holds the hash of the whole
 * batch and then its ids. Jobs whose derived id exists are not added again (nor handed over, for
 * a superseding handler): a repeat adds nothing, and a retry after a failure part-way (one
 * queue's transaction landed, the next one's did not) adds only the jobs that are missing.
 */
export async function enqueueBatchIdempotently(deps: BatchIdempotencyDeps, actor: string, key: string, jobs: readonly IdempotentRequest[]): Promise<IdempotentBatchOutcome> {
  const hash = createHash('sha256').update(`${actor}\n${key}`).digest('hex');
  const recordKey = deps.keys.idempotency(hash);
  const fingerprint = sha256(canonicalJson({ batch: jobs }));
  const record = await bounded(() => claimRecord(deps.redis, recordKey, fingerprint));
  if (record.kind === 'mismatch') return record;
  if (record.kind === 'committed') {
    // A single request's record with this very fingerprint cannot exist (it hashes another shape).
    if (record.jobIds?.length === jobs.length) return { kind: 'replay', jobIds: record.jobIds };
    return { kind: 'mismatch' };
  }

  const derived = jobs.map((job, i) => {
    const bullId = idempotentBatchJobId(actor, key, i);
    return { bullId, ...deps.locate(job.handler, bullId) };
  });
  const commit = (ids: string[]) => bounded(() => deps.redis.set(recordKey, JSON.stringify({ fingerprint, jobIds: ids }), 'EX', IDEMPOTENCY_TTL_SECONDS));
  const abandon = () => (record.kind === 'claimed' ? bounded(() => deps.redis.del(recordKey)).catch(() => undefined) : undefined);

  // Commands sent together, answered in one go (ioredis writes them back to back).
  const exists = await bounded(() => Promise.all(derived.map(({ queue, bullId }) => deps.redis.exists(queue.toKey(bullId)))));
  if (record.kind === 'claimed' && exists.some(Boolean)) {
    // No record, but jobs from an earlier use of the key: they are the only witness of its body.
    const same = await bounded(() =>
      Promise.all(derived.map(async ({ queue, bullId }, i) => !exists[i] || (async (job) => !!job && sameRequest(job, deps.handlers, jobs[i]!))(await queue.getJob(bullId)))),
    );
    if (!same.every(Boolean)) {
      await abandon();
      return { kind: 'mismatch' };
    }
  }
  const missing = jobs.flatMap((_, i) => (exists[i] ? [] : [i]));
  const ids = derived.map(({ ref }) => ref);
  if (missing.length > 0) {
    let added: string[];
    try {
      added = await deps.enqueue(missing.map((i) => ({ ...jobs[i]!, options: { ...jobs[i]!.options, jobId: derived[i]!.bullId } })));
    } catch (err) {
      // As for a single request: after Redis trouble part may have landed, so the record stays.
      if (!(err instanceof QueueUnavailableError)) await abandon();
      throw err;
    }
    // With `dedupeKey`, an equal unfinished job's id may come back instead of the derived one.
    missing.forEach((i, k) => (ids[i] = added[k]!));
  }
  await commit(ids);
  return missing.length === jobs.length ? { kind: 'created', jobIds: ids } : { kind: 'replay', jobIds: ids };
}

type RecordState = { kind: 'claimed' } | { kind: 'pending' } | { kind: 'committed'; jobId: string; jobIds?: string[] } | { kind: 'mismatch' };

async function claimRecord(redis: Redis, recordKey: string, fingerprint: string): Promise<RecordState> {
  for (let tries = 0; tries < 3; tries++) {
    if ((await redis.set(recordKey, JSON.stringify({ fingerprint }), 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX')) === 'OK') return { kind: 'claimed' };
    const raw = await redis.get(recordKey);
    if (raw === null) continue; // expired between the two calls: claim again
    const stored = parseRecord(raw);
    if (stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (stored.jobIds) return { kind: 'committed', jobId: stored.jobIds[0] ?? '', jobIds: stored.jobIds };
    return stored.jobId ? { kind: 'committed', jobId: stored.jobId } : { kind: 'pending' };
  }
  throw new QueueUnavailableError('the Idempotency-Key record kept vanishing');
}

function parseRecord(raw: string): { fingerprint?: string; jobId?: string; jobIds?: string[] } {
  try {
    const value = JSON.parse(raw) as { fingerprint?: unknown; jobId?: unknown; jobIds?: unknown };
    return {
      ...(typeof value.fingerprint === 'string' ? { fingerprint: value.fingerprint } : {}),
      ...(typeof value.jobId === 'string' ? { jobId: value.jobId } : {}),
      ...(Array.isArray(value.jobIds) && value.jobIds.every((id) => typeof id === 'string') ? { jobIds: value.jobIds as string[] } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * Whether `job` is what `request` would have added: same handler, same payload after the handler's
 * schema (defaults applied), same options as BullMQ stored them.
 */
function sameRequest(job: Job, handlers: HandlerMap, request: IdempotentRequest): boolean {
  if (job.name !== request.handler || !Object.hasOwn(handlers, request.handler)) return false;
  const def = handlers[request.handler]!;
  const parsed = def.schema ? def.schema.safeParse(request.payload) : { success: true as const, data: request.payload };
  if (!parsed.success) return false;
  const stored = (job.data as { payload?: unknown } | undefined)?.payload;
  try {
    // Compared as JSON, the form BullMQ stored it in (dates become strings, undefined disappears).
    if (canonicalJson(JSON.parse(JSON.stringify(parsed.data ?? null))) !== canonicalJson(stored ?? null)) return false;
    const expected = toBullJobOptions(request.handler, def, request.options ?? {});
    return canonicalJson(comparableOptions(expected)) === canonicalJson(comparableOptions(job.opts));
  } catch {
    return false; // not even comparable (bad options, a payload JSON cannot hold): not the same request
  }
}

/** The options an enqueue request decides; retention and the job id are the same for all. */
function comparableOptions(opts: JobsOptions): unknown {
  return { attempts: opts.attempts ?? 1, backoff: opts.backoff ?? null, delay: opts.delay || 0, priority: opts.priority || 0, dedupe: opts.deduplication?.id ?? null };
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same body. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Our own Redis calls fail like the job client's: `QueueUnavailableError` (503) after a bound. */
const bounded = <T>(op: () => Promise<T>): Promise<T> => redisCall(op, REDIS_TIMEOUT_MS);
