/**
 * Top-level key namespaces (seed). Use them when building your own keys, e.g. a superseding
 * job's dedupe key: `${redisNamespace.job}:sync:${payload.resourceId}`.
 */
export const redisNamespace = {
  job: 'job',
  lock: 'lock',
  channel: 'channel',
  scheduler: 'scheduler',
} as const;

/**
 * Whether Redis Cluster hashes every key under `prefix` by the same part: the first `{…}` with
 * something between the braces (Redis' hash tag rule).
 *
 * @example
 * prefixHasHashTag('{jobs}'); // true
 * prefixHasHashTag('bull');   // false
 */
export function prefixHasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  const close = open === -1 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/**
 * The BullMQ `prefix` of queue `queueName` (SPEC §12, "Redis Cluster scales with queues"):
 * - on a single Redis, or when `prefix` carries a hash tag (`{jobs}`): `prefix` itself, so every
 *   queue's keys are where they always were (`{jobs}` keeps everything in one slot, as before);
 * - on a cluster with a prefix without a hash tag (`bull`): `<prefix>:{<queue>}`, so each queue
 *   hashes to a slot of its own (BullMQ's keys are `<prefix>:<queue>:…`, its scripts need all of
 *   one queue's keys in one slot, and ours live under the same base; see {@link redisKeys}).
 *
 * @example
 * queuePrefix('bull', 'reports', false);   // 'bull'
 * queuePrefix('{jobs}', 'reports', true);  // '{jobs}'
 * queuePrefix('bull', 'reports', true);    // 'bull:{reports}'
 */
export function queuePrefix(prefix: string, queueName: string, cluster: boolean): string {
  return cluster && !prefixHasHashTag(prefix) ? `${prefix}:{${queueName}}` : prefix;
}

/**
 * Every Redis key and channel this project writes besides BullMQ's own, under the queue's
 * prefix so they share BullMQ's hash slot on Redis Cluster. `prefix` is the queue's BullMQ
 * prefix ({@link queuePrefix}); each queue has its own keys (abort flags and channel, supersede
 * pointers, locks), so a job's run only touches keys of its own queue's slot.
 */
export function redisKeys(prefix: string, queueName: string) {
  const base = `${prefix}:${queueName}`;
  return {
    /** Held while a singleton handler (and key) runs. */
    singletonLock: (handler: string, key: string) => `${base}:${redisNamespace.lock}:singleton:${handler}:${key}`,
    /**
     * State of a concurrency / rate limit of a handler and key (jobs/limits): `<base>:run` (holders'
     * leases), `<base>:starts` (rate window), `<base>:parked` (held-back job ids), `<base>:pause`.
     */
    limitState: (handler: string, key: string) => `${base}:${redisNamespace.lock}:limit:${handler}:${key}`,
    /** Limit states that have parked jobs, scored by when they are next due for a wake-up. */
    limitDue: `${base}:${redisNamespace.lock}:limit-due`,
    /**
     * `<order stamp> <job id>` of the newest job of a superseding handler and key; `<order stamp> `
     * (no id) for a short while after that job finished or was cancelled. Expires (see supersede.ts).
     */
    supersedeLatest: (handler: string, key: string) => `${base}:${redisNamespace.job}:latest:${handler}:${key}`,
    /** Counter giving every superseding enqueue of this queue its order stamp (one key per queue). */
    supersedeSeq: `${base}:${redisNamespace.job}:supersede-seq`,
    /** BullMQ's own hash of a job (read by supersede scripts: its data and whether it finished). */
    jobHash: (jobId: string) => `${base}:${jobId}`,
    /** Fallback flag for a superseded or cancelled job, read if a pub/sub message was missed. */
    abortFlag: (jobId: string) => `${base}:${redisNamespace.job}:superseded:${jobId}`,
    /** Broadcast to every worker process: abort the job with this id if you run it. */
    abortChannel: `${base}:${redisNamespace.channel}:abort`,
    /** Published by the API after a cron row changes; the scheduler listens. */
    cronChangedChannel: `${base}:${redisNamespace.channel}:cron-changed`,
    /** `Idempotency-Key` of an enqueue request (hashed with the actor) → the job it created. */
    idempotency: (hash: string) => `${base}:${redisNamespace.job}:idempotency:${hash}`,
    /**
     * Every queue the scheduler has put job schedulers on (a set, under the default queue): a
     * queue that left the registry (its last handler moved away) is still read, so its
     * schedulers are moved or removed, and dropped from the set once it holds none.
     */
    schedulerQueues: `${base}:${redisNamespace.scheduler}:queues`,
    /** The scheduler leader lock. */
    schedulerLeader: `${base}:${redisNamespace.scheduler}:leader`,
    /** Published when the scheduler leader releases its lock, so a standby takes over at once. */
    schedulerLeaderReleased: `${base}:${redisNamespace.channel}:scheduler-leader-released`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
