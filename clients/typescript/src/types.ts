/**
 * The typed view of the generated layer the hand-written client speaks in. Handler names and
 * their payloads come from the OpenAPI document's enqueue body, a union discriminated by
 * `handler` (SPEC §16): a wrong payload for a handler is a compile error.
 */
import type * as Api from './generated/types.gen.js';

type EnqueueJobRequest = Api.EnqueueJobRequest;

/** Names of the handlers the API lets callers enqueue (internal ones are not in the document). */
export type HandlerName = EnqueueJobRequest['handler'];

/**
 * The payload type of handler `H`. Distributes over the union's members: the member whose
 * `handler` is `H` gives its payload (with a document that types no handler, any name gets `unknown`).
 */
export type PayloadOf<H extends HandlerName> = EnqueueJobRequest extends infer R ? (R extends { handler: infer K } ? (H extends K ? (R extends { payload?: infer P } ? P : never) : never) : never) : never;

/** `delay`, `priority`, `attempts`, `backoffMs`, `dedupeKey`. */
export type EnqueueOptions = NonNullable<EnqueueJobRequest['options']>;

/** One job of a batch: `{ handler, payload, options? }`, its payload typed by its handler. */
export type BatchJob = { [H in HandlerName]: { handler: H; payload: PayloadOf<H>; options?: EnqueueOptions } }[HandlerName];

export type EnqueuedJob = Api.EnqueuedJob;
export type EnqueuedBatch = Api.EnqueuedBatch;
export type Job = Api.Job;
export type CancelResult = Api.CancelResult;
export type Handler = Api.Handler;
export type CronJob = Api.CronJob;
export type CronJobList = Api.CronJobList;
export type CreateCronJobRequest = Api.CreateCronJobRequest;
export type UpdateCronJobRequest = Api.UpdateCronJobRequest;
export type TriggeredCronJob = Api.TriggeredCronJob;
export type WebhookSubscription = Api.WebhookSubscription;
export type WebhookSubscriptionList = Api.WebhookSubscriptionList;
export type CreatedWebhookSubscription = Api.CreatedWebhookSubscription;
export type CreateWebhookSubscriptionRequest = Api.CreateWebhookSubscriptionRequest;
export type UpdateWebhookSubscriptionRequest = Api.UpdateWebhookSubscriptionRequest;
export type WebhookEvent = Api.WebhookEvent;
export type WebhookEventList = Api.WebhookEventList;
export type ReplayedWebhookEvent = Api.ReplayedWebhookEvent;

/** Job states after which nothing more happens to the job. */
export const FINAL_STATES = ['completed', 'failed', 'cancelled', 'superseded'] as const;
export type FinalState = (typeof FINAL_STATES)[number];

/** Per-call options every method takes. */
export interface CallOptions {
  /** Cancels the call, its retries and waits; the call rejects with the signal's reason. */
  signal?: AbortSignal;
}
