import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../redis/connection.js';
import { redisKeys } from '../redis/namespace.js';
import { cancelJob, type CancelResult } from './cancel-job.js';
import { makeEnvelope } from './envelope.js';
import { toBullJobOptions } from './job-options.js';
import { toJobInfo, type JobInfo } from './job-info.js';
import { supersedeOlder } from './patterns/supersede.js';
import { parsePayload, resolveHandler } from './payload.js';
import type { EnqueueOptions, HandlerMap, PayloadOf } from './types.js';

export interface CreateJobClientOptions<H extends HandlerMap> {
  handlers: H;
  redisUrl?: string;
  /** BullMQ key prefix (default `bull`; `{jobs}` on Redis Cluster). */
  prefix?: string;
  queueName?: string;
  /** Use this connection instead of opening one; the client then does not close it. */
  connection?: Redis;
}

export interface JobClient<H extends HandlerMap> {
  /**
   * Validates and enqueues a job; returns its id. With `dedupeKey`, the id of an equal job that
   * has not finished yet is returned and nothing is added.
   * Throws `UnknownHandlerError`, `JobPayloadError` or `JobOptionsError` for bad input.
   */
  enqueueJob<K extends keyof H & string>(name: K, payload: PayloadOf<H[K]>, options?: EnqueueOptions): Promise<string>;
  /** The job's state and outcome, or `undefined` if there is no such job (or it was trimmed). */
  getJob(id: string): Promise<JobInfo | undefined>;
  /**
   * Cancels a job: removes it if it has not started, otherwise aborts its `ctx.signal` on
   * whichever worker process runs it; it then ends as cancelled, without retry.
   */
  cancelJob(id: string): Promise<CancelResult>;
  /** The BullMQ queue underneath. */
  readonly queue: Queue;
  close(): Promise<void>;
}

/**
 * A producer for any handler map: enqueue, inspect and cancel jobs.
 *
 * @example
 * const client = createJobClient({ handlers: { myJob } });
 * const id = await client.enqueueJob('myJob', { userId: 'u1', action: 'x' }, { delay: 5000 });
 */
export function createJobClient<H extends HandlerMap>(options: CreateJobClientOptions<H>): JobClient<H> {
  const { handlers } = options;
  const connection = options.connection ?? createRedis(options.redisUrl ?? 'redis://127.0.0.1:6379', 'producer');
  const queueName = options.queueName ?? 'jobs';
  const prefix = options.prefix ?? 'bull';
  const queue = new Queue(queueName, { connection, prefix });
  queue.on('error', () => {}); // surfaced to the caller as rejected promises instead
  const deps = { queue, redis: connection, keys: redisKeys(prefix, queueName) };

  return {
    queue,
    async enqueueJob(name, payload, enqueueOptions = {}) {
      const def = resolveHandler(handlers, name);
      const parsed = parsePayload(name, def.schema, payload);
      const opts = toBullJobOptions(name, def, enqueueOptions);
      const job = await queue.add(name, makeEnvelope(parsed, enqueueOptions.type, enqueueOptions.cronJobId), opts);
      const id = job.id!;
      if (def.pattern === 'superseding' && def.keyOf) {
        await supersedeOlder(deps, deps.keys.supersedeLatest(name, def.keyOf(parsed)), id);
      }
      return id;
    },
    cancelJob: (id) => cancelJob(deps, id),
    async getJob(id) {
      const state = await queue.getJobState(id);
      const job = state === 'unknown' ? undefined : await queue.getJob(id);
      return job ? toJobInfo(job, state) : undefined;
    },
    async close() {
      await queue.close();
      if (!options.connection) await closeRedis(connection);
    },
  };
}
