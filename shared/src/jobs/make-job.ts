import type { ZodType } from 'zod';
import type { JobDefinition, JobRunner } from './types.js';

export interface MakeJobOptions<P> {
  /** Runtime schema of the payload; the API and the worker reject payloads that fail it. */
  schema?: ZodType<P>;
  /** Tries in all when the enqueuer does not say (default 3). */
  attempts?: number;
  /** Base of the exponential backoff when the enqueuer does not say (default 1000 ms). */
  backoffMs?: number;
}

/**
 * A basic job handler (seed).
 *
 * @example
 * export const myJob = makeJob<MyJobPayload>(async (ctx, payload) => {
 *   ctx.log.info({ userId: payload.userId }, 'working');
 * }, { schema: myJobPayloadSchema });
 */
export function makeJob<P>(run: JobRunner<P>, options: MakeJobOptions<P> = {}): JobDefinition<P> {
  return {
    pattern: 'basic',
    run,
    schema: options.schema,
    defaults: { attempts: options.attempts, backoffMs: options.backoffMs },
    keyOf: undefined,
  };
}
