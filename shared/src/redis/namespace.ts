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
 * Every Redis key and channel this project writes besides BullMQ's own, under the queue's
 * prefix so they share BullMQ's hash slot on Redis Cluster when the prefix is `{jobs}`.
 */
export function redisKeys(prefix: string, queueName: string) {
  const base = `${prefix}:${queueName}`;
  return {
    /** Held while a singleton handler (and key) runs. */
    singletonLock: (handler: string, key: string) => `${base}:${redisNamespace.lock}:singleton:${handler}:${key}`,
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
    /** The scheduler leader lock. */
    schedulerLeader: `${base}:${redisNamespace.scheduler}:leader`,
    /** Published when the scheduler leader releases its lock, so a standby takes over at once. */
    schedulerLeaderReleased: `${base}:${redisNamespace.channel}:scheduler-leader-released`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
