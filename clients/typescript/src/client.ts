import { createClient, createConfig, type Client } from './generated/client/index.js';
import { unwrap } from './call.js';
import { newIdempotencyKey } from './idempotency-key.js';
import * as op from './operations.js';
import { DEFAULT_RETRY_POLICY, retryingFetch, type FetchFn, type RetryPolicy } from './retry.js';
import type {
  BatchJob,
  CallOptions,
  CancelResult,
  CreateCronJobRequest,
  CreatedWebhookSubscription,
  CreateWebhookSubscriptionRequest,
  CronJob,
  CronJobList,
  EnqueuedBatch,
  EnqueuedJob,
  EnqueueOptions,
  Handler,
  HandlerName,
  Job,
  PayloadOf,
  ReplayedWebhookEvent,
  TriggeredCronJob,
  UpdateCronJobRequest,
  UpdateWebhookSubscriptionRequest,
  WebhookEventList,
  WebhookSubscription,
  WebhookSubscriptionList,
} from './types.js';
import { waitForJob, type WaitForJobOptions } from './wait-for-job.js';

export interface JobsClientOptions {
  /** Where the API is, e.g. `https://jobs.internal.example` (no `/api` suffix). */
  baseUrl: string;
  /** A bearer token (scope `jobs:enqueue` or `jobs:admin`). */
  token?: string;
  /** Called before each request instead of `token`, for tokens that expire. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** The `fetch` to use (default `globalThis.fetch`): a test double, a proxy-aware one… */
  fetch?: (request: Request) => Promise<Response>;
  /** Retries on network errors, 503 and 429: a count, or the whole policy (`retries: 0` turns them off). */
  retries?: number | Partial<RetryPolicy>;
  /** Sent with every request (e.g. `X-Request-Id`). */
  headers?: Record<string, string>;
}

export interface EnqueueCallOptions extends EnqueueOptions, CallOptions {
  /** Identifies this logical enqueue: sent as `Idempotency-Key`, the same on every retry. Default: a random UUID per call. */
  idempotencyKey?: string;
}

export interface BatchCallOptions extends CallOptions {
  /** As for `enqueue`, for the whole batch. */
  idempotencyKey?: string;
}

type Query<T> = T extends { query?: infer Q } ? NonNullable<Q> : never;

export interface JobsClient {
  /** Enqueues one job; `payload` is typed by `handler`. Retries reuse one `Idempotency-Key`, so they never add a second job. */
  enqueue<H extends HandlerName>(handler: H, payload: PayloadOf<H>, options?: EnqueueCallOptions): Promise<EnqueuedJob>;
  /** Enqueues 1–1,000 jobs, all or nothing. */
  enqueueBatch(jobs: BatchJob[], options?: BatchCallOptions): Promise<EnqueuedBatch>;
  getJob(id: string, options?: CallOptions): Promise<Job>;
  /** Removes a waiting/delayed job, aborts a running one. */
  cancelJob(id: string, options?: CallOptions): Promise<CancelResult>;
  /** Resolves with the job once it is completed, failed, cancelled or superseded. */
  waitForJob(id: string, options?: WaitForJobOptions): Promise<Job>;
  /** Handlers that can be enqueued, with their payload JSON Schemas. */
  listHandlers(options?: CallOptions): Promise<Handler[]>;
  cron: {
    list(query?: Query<op.ListCronJobsData>, options?: CallOptions): Promise<CronJobList>;
    get(id: string, options?: CallOptions): Promise<CronJob>;
    create(body: CreateCronJobRequest, options?: CallOptions): Promise<CronJob>;
    update(id: string, body: UpdateCronJobRequest, options?: CallOptions): Promise<CronJob>;
    remove(id: string, options?: CallOptions): Promise<void>;
    /** Runs the cron job's handler once now (job type `cronTrigger`). */
    trigger(id: string, options?: CallOptions): Promise<TriggeredCronJob>;
  };
  webhooks: {
    list(query?: Query<op.ListWebhookSubscriptionsData>, options?: CallOptions): Promise<WebhookSubscriptionList>;
    get(id: string, options?: CallOptions): Promise<WebhookSubscription>;
    /** The answer carries the subscription's signing `secret`, shown this once. */
    create(body: CreateWebhookSubscriptionRequest, options?: CallOptions): Promise<CreatedWebhookSubscription>;
    update(id: string, body: UpdateWebhookSubscriptionRequest, options?: CallOptions): Promise<WebhookSubscription>;
    remove(id: string, options?: CallOptions): Promise<void>;
    /** The subscription's delivery attempts, newest first (paginated). */
    attempts(id: string, query?: Query<op.ListWebhookAttemptsData>, options?: CallOptions): Promise<WebhookEventList>;
    /** Delivers one recorded event again. */
    replay(eventId: string, options?: CallOptions): Promise<ReplayedWebhookEvent>;
  };
  /** The generated client underneath, for operations this layer does not wrap (`import * as sdk from '@jobs/client/sdk'`). */
  readonly raw: Client;
}

/**
 * A client of the Jobs HTTP API. Works wherever `fetch` does (Node 20+, Bun, Deno, browsers).
 * Every failure rejects with a `JobsApiError` (`status`, `type`, `title`, `detail`, `field`, `requestId`).
 *
 * @example
 * const jobs = createJobsClient({ baseUrl: 'http://localhost:8000', token: process.env.JOBS_TOKEN });
 * const { id } = await jobs.enqueue('echo', { message: 'hi' }, { delay: 1_000 });
 * const done = await jobs.waitForJob(id, { timeoutMs: 30_000 });
 */
export function createJobsClient(options: JobsClientOptions): JobsClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...(typeof options.retries === 'number' ? { retries: options.retries } : options.retries) };
  const baseFetch: FetchFn = options.fetch ?? ((request) => globalThis.fetch(request));
  const raw = createClient(
    createConfig({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      fetch: retryingFetch(baseFetch, policy) as typeof fetch,
      auth: () => (options.getToken ? options.getToken() : options.token),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  );
  const call = { client: raw } as const;
  const idempotencyKey = (given: string | undefined) => given ?? newIdempotencyKey();

  const getJob = (id: string, o: CallOptions = {}) => unwrap(op.getJob({ ...call, path: { id }, signal: o.signal }));

  return {
    raw,
    enqueue(handler, payload, { signal, idempotencyKey: key, ...jobOptions } = {}) {
      const body = { handler, payload, ...(Object.keys(jobOptions).length ? { options: jobOptions } : {}) } as Parameters<typeof op.enqueueJob>[0]['body'];
      return unwrap(op.enqueueJob({ ...call, body, headers: { 'Idempotency-Key': idempotencyKey(key) }, signal }));
    },
    enqueueBatch(jobs, { signal, idempotencyKey: key } = {}) {
      const body = { jobs } as Parameters<typeof op.enqueueJobs>[0]['body'];
      return unwrap(op.enqueueJobs({ ...call, body, headers: { 'Idempotency-Key': idempotencyKey(key) }, signal }));
    },
    getJob,
    cancelJob: (id, o = {}) => unwrap(op.cancelJob({ ...call, path: { id }, signal: o.signal })),
    waitForJob: (id, o = {}) => waitForJob((signal) => getJob(id, { signal }), id, o),
    listHandlers: async (o = {}) => (await unwrap(op.listHandlers({ ...call, signal: o.signal }))).items,
    cron: {
      list: (query, o = {}) => unwrap(op.listCronJobs({ ...call, query, signal: o.signal })),
      get: (id, o = {}) => unwrap(op.getCronJob({ ...call, path: { id }, signal: o.signal })),
      create: (body, o = {}) => unwrap(op.createCronJob({ ...call, body, signal: o.signal })),
      update: (id, body, o = {}) => unwrap(op.updateCronJob({ ...call, path: { id }, body, signal: o.signal })),
      remove: async (id, o = {}) => void (await unwrap(op.deleteCronJob({ ...call, path: { id }, signal: o.signal }))),
      trigger: (id, o = {}) => unwrap(op.triggerCronJob({ ...call, path: { id }, signal: o.signal })),
    },
    webhooks: {
      list: (query, o = {}) => unwrap(op.listWebhookSubscriptions({ ...call, query, signal: o.signal })),
      get: (id, o = {}) => unwrap(op.getWebhookSubscription({ ...call, path: { id }, signal: o.signal })),
      create: (body, o = {}) => unwrap(op.createWebhookSubscription({ ...call, body, signal: o.signal })),
      update: (id, body, o = {}) => unwrap(op.updateWebhookSubscription({ ...call, path: { id }, body, signal: o.signal })),
      remove: async (id, o = {}) => void (await unwrap(op.deleteWebhookSubscription({ ...call, path: { id }, signal: o.signal }))),
      attempts: (id, query, o = {}) => unwrap(op.listWebhookAttempts({ ...call, path: { id }, query, signal: o.signal })),
      replay: (eventId, o = {}) => unwrap(op.replayWebhookEvent({ ...call, path: { id: eventId }, signal: o.signal })),
    },
  };
}
