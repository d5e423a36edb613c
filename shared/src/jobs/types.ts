import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Database } from '../db/schema.js';
import type { WebhookRuntime } from '../webhooks/webhook-runtime.js';
import type { JobLimits, LimitsView } from './limits/limit-options.js';

/** How a job came to be (SPEC §6). */
export type JobType = 'adhoc' | 'cron' | 'cronTrigger';
export const jobTypes: readonly JobType[] = ['adhoc', 'cron', 'cronTrigger'];

/** What every BullMQ job of this system carries as `job.data`; the job name is the handler name. */
export interface JobEnvelope<P = unknown> {
  type: JobType;
  payload: P;
  /** The `cron_job.id` for `cron` and `cronTrigger` jobs. */
  cronJobId?: string;
  /** The enqueuer's W3C trace context (`traceparent`, `tracestate`) while tracing is on (SPEC §15). */
  trace?: unknown;
}

/** Options of `enqueueJob` (seed + SPEC §3). */
export interface EnqueueOptions {
  /** Milliseconds to wait before the job may run. */
  delay?: number;
  /** Lower runs sooner; 1 is the highest priority. Unset jobs run before any prioritised one (BullMQ). */
  priority?: number;
  /** Total tries, first run included. */
  attempts?: number;
  /** Base of the exponential backoff between tries, in ms. */
  backoffMs?: number;
  /** An equal job that has not started yet is not added twice; its id is returned instead. */
  dedupeKey?: string;
  /** Set by the scheduler and the cron trigger route; `adhoc` otherwise. */
  type?: JobType;
  cronJobId?: string;
  /**
   * A caller-chosen job id, for producers that must be idempotent (the webhook outbox relay:
   * one job per outbox row and subscription). A second add with the same id adds nothing.
   * Must not be an integer, nor contain `:` (BullMQ's rules). Not offered over HTTP.
   */
  jobId?: string;
}

/** Handed to every handler. */
export interface JobContext {
  jobId: string;
  handlerName: string;
  type: JobType;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
  /** Tries allowed in all. */
  maxAttempts: number;
  /** When the job was enqueued. */
  enqueuedAt: Date;
  cronJobId: string | undefined;
  /** Pino child scoped `[worker][{handlerName}:{jobId}]`. */
  log: Logger;
  /** Aborts when the job is superseded, cancelled, or the worker's shutdown timeout is reached. */
  signal: AbortSignal;
  updateProgress(progress: number | object): Promise<void>;
  /** A shared, non-blocking Redis connection of the worker process. */
  redis: Redis;
  /** Whatever the worker was given as `services` (database handle, HTTP client, …). */
  services: JobServices;
}

/**
 * Dependencies a worker hands its handlers. Extend it by declaration merging:
 *
 * @example
 * declare module '@jobs/shared' { interface JobServices { mailer: Mailer } }
 */
export interface JobServices {
  /** The database, for handlers that need it (the worker service always provides it). */
  db?: Kysely<Database>;
  /** Signing keys, HTTP client and breaker settings of `sendWebhook`. */
  webhooks?: WebhookRuntime;
}

/** The three handler patterns of the seed. */
export type JobPattern = 'basic' | 'singleton' | 'superseding';

export type JobRunner<P> = (ctx: JobContext, payload: P) => Promise<unknown>;

/** What `makeJob` and friends return; a handler map is a record of these. */
export interface JobDefinition<P> {
  readonly pattern: JobPattern;
  readonly run: JobRunner<P>;
  /** Validates payloads at enqueue (API and client) and again at run (worker). */
  readonly schema: ZodType<P> | undefined;
  /** Defaults for this handler; enqueue options override them. */
  readonly defaults: { attempts?: number; backoffMs?: number; backoffJitter?: number };
  /** Identity of a job for dedupe/supersede/singleton; undefined for basic jobs. */
  readonly keyOf: ((payload: P) => string) | undefined;
  /** Extra settings of the singleton pattern. */
  readonly singleton?: { lockTtlMs: number; retryDelayMs: number };
  /**
   * Only the system enqueues it (outbox relay, replays, built-in schedules): the HTTP API refuses
   * it whatever the scope, and a cron row cannot name it (SPEC §14). The library still enqueues it.
   */
  readonly internal?: boolean;
  /** The queue its jobs go to (`queue` option); undefined = the default queue (`QUEUE_NAME`). */
  readonly queue?: string | undefined;
  /** Its concurrency and rate limits for display (admin API, console): no functions, only whether keyed. */
  readonly limits?: LimitsView | undefined;
  /** Its checked concurrency and rate limits, as the worker's gate applies them (jobs/limits). */
  readonly limitRules?: JobLimits<P> | undefined;
  /** Phantom member that keeps `P` invariant, so a wrong payload type in a registry fails to compile. */
  readonly __payload?: (payload: P) => P;
}

// `any` is confined to this constraint: it lets maps of differently-typed definitions be passed
// where a handler map is expected. Public signatures use PayloadOf<> to get precise types back.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any>;

/** A map handler name → definition. */
export type HandlerMap = Record<string, AnyJobDefinition>;

/** The payload type a definition expects. */
export type PayloadOf<D> = D extends JobDefinition<infer P> ? P : never;

/** A registry must define a handler for every name in `Payloads`, each with that payload type. */
export type HandlerRegistry<Payloads> = { [K in keyof Payloads]: JobDefinition<Payloads[K]> };
