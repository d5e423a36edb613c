import { z } from '@hono/zod-openapi';
import { eventPatternSchema, resourceEventSchema } from '@jobs/shared/webhooks';
import { findUnstorable, isStorableText, UNSTORABLE_TEXT } from '../cron/storable-json.js';
import { MAX_URL_LENGTH, urlProblem } from '../webhooks/webhook-url.js';

/** A string Postgres can store (see `isStorableText`): bad input answers 400, never a database error. */
const text = (min: number, max: number) => z.string().min(min).max(max).refine(isStorableText, UNSTORABLE_TEXT);

const url = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((value, ctx) => {
    const problem = urlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({
    description: 'where deliveries are POSTed: http(s), no credentials; https outside local/test',
    format: 'uri',
    example: 'https://example.com/webhooks/jobs',
  });

/** The editable fields, without defaults (PATCH must not fill in what the caller left out). */
const fields = {
  url,
  events: z
    .array(eventPatternSchema)
    .min(1)
    .max(50)
    .openapi({ description: 'what to deliver: "*", "resource.*" or "resource.action"', example: ['cronJob.*', 'invoice.paid'] }),
  description: text(0, 1000).nullable().openapi({ example: 'billing service' }),
  enabled: z.boolean().openapi({ description: 'true re-enables a disabled subscription (resets the failure count)' }),
};

export const CreateSubscriptionBody = z
  .object({
    url: fields.url,
    events: fields.events,
    description: fields.description.optional(),
    enabled: fields.enabled.default(true),
  })
  .strict()
  .openapi('CreateWebhookSubscriptionRequest');

export const UpdateSubscriptionBody = z.object(fields).partial().strict().openapi('UpdateWebhookSubscriptionRequest');

export const SubscriptionSchema = z
  .object({
    id: z.string().openapi({ format: 'uuid' }),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    consecutiveFailures: z.number().int().openapi({ description: 'failed attempts in a row; the breaker disables at WEBHOOK_FAILURE_THRESHOLD' }),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('WebhookSubscription');

const secret = z.string().openapi({
  description: 'the Standard Webhooks secret (`whsec_…`) that signs `webhook-signature` (SPEC §18); verify with any Standard Webhooks library',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
});

/** The create response: the subscription and, this once, its secret. */
export const CreatedSubscriptionSchema = SubscriptionSchema.extend({ secret }).openapi('CreatedWebhookSubscription');

export const SubscriptionSecretSchema = z.object({ secret }).openapi('WebhookSubscriptionSecret');

export const RotatedSubscriptionSecretSchema = z
  .object({
    secret,
    previousSecretExpiresAt: z.string().nullable().openapi({
      description: 'until then deliveries are signed with the new and the previous secret (ISO 8601); null when there was no usable previous secret',
    }),
  })
  .openapi('RotatedWebhookSubscriptionSecret');

const nextCursor = z.string().nullable().openapi({ description: 'pass as `cursor` for the next page; null on the last page' });

export const SubscriptionListSchema = z.object({ items: z.array(SubscriptionSchema), nextCursor }).openapi('WebhookSubscriptionList');

const limit = z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 });
const cursor = z.string().max(512).optional().openapi({ param: { name: 'cursor', in: 'query' }, description: "the previous page's nextCursor (opaque)" });

export const ListSubscriptionsQuery = z.object({
  limit,
  cursor,
  enabled: z.enum(['true', 'false']).optional().openapi({ param: { name: 'enabled', in: 'query' } }),
});

export const ListEventsQuery = z.object({
  limit,
  cursor,
  success: z.enum(['true', 'false']).optional().openapi({ param: { name: 'success', in: 'query' }, description: 'only delivered (true) or only failed/skipped (false) attempts' }),
});

export const EventSchema = z
  .object({
    id: z.string().openapi({ format: 'uuid' }),
    webhookId: z.string().openapi({ description: 'the event id (X-Webhook-Id), the same on every attempt and replay' }),
    jobId: z.string().nullable(),
    attempt: z.number().int(),
    resource: z.string(),
    action: z.string(),
    resourceId: z.string(),
    success: z.boolean(),
    error: z.string().nullable().openapi({ description: 'timeout, dns, refused, tls, http_4xx, http_5xx, blocked_address, …, or skipped (subscription disabled)' }),
    responseStatus: z.number().int().nullable(),
    responseBody: z.string().nullable().openapi({ description: 'the first 4 KB of the response' }),
    durationMs: z.number().int().nullable(),
    createdAt: z.string(),
    requestBody: z.record(z.string(), z.unknown()).openapi({ description: 'the JSON body POSTed (or that would have been, when skipped)' }),
  })
  .openapi('WebhookEvent');

export const EventListSchema = z.object({ items: z.array(EventSchema), nextCursor }).openapi('WebhookEventList');

/** Any string: an id that is not a uuid is simply not found (404), never a 400 or a failed cast. */
export const UuidIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid' }),
});

export const ReplayedEvent = z.object({ jobId: z.string() }).openapi('ReplayedWebhookEvent');

export const ReplayedSubscription = z
  .object({ enqueued: z.number().int().openapi({ description: 'deliveries queued now (skipped events already queued by an earlier replay are not counted)' }) })
  .openapi('ReplayedWebhookSubscription');

/** `resourceEventSchema` (shared with the other services), plus what Postgres cannot store. */
export const PublishEventBody = resourceEventSchema
  .superRefine((event, ctx) => {
    if (!isStorableText(event.resourceId)) ctx.addIssue({ code: 'custom', path: ['resourceId'], message: UNSTORABLE_TEXT });
    const found = findUnstorable(event.data);
    if (found) ctx.addIssue({ code: 'custom', path: ['data', ...found.path], message: found.message });
  })
  .openapi('PublishEventRequest', {
    example: { resource: 'invoice', action: 'paid', resourceId: 'inv_123', data: { total: 4200, currency: 'EUR' } },
  });

export const PublishedEvent = z.object({ id: z.string().openapi({ description: 'the event id (X-Webhook-Id of its deliveries)', example: 'evt_3f9c1e0b7a4d52e88c01f6b2d9a7e415' }) }).openapi('PublishedEvent');

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({ kty: z.string(), n: z.string(), e: z.string(), kid: z.string(), alg: z.string(), use: z.string() }).partial(),
    ),
  })
  .openapi('JsonWebKeySet');
