import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { App, AppDeps, AppEnv } from '../app-env.js';
import type { CommandContext } from '../cron/cron-job-commands.js';
import { decodeCursor, encodeCursor } from '../cron/pagination.js';
import { ApiProblem } from '../problem.js';
import { conflictResponse, errorResponses, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import {
  CreatedSubscriptionSchema,
  CreateSubscriptionBody,
  EventListSchema,
  ListEventsQuery,
  ListSubscriptionsQuery,
  ReplayedSubscription,
  RotatedSubscriptionSecretSchema,
  SubscriptionListSchema,
  SubscriptionSchema,
  SubscriptionSecretSchema,
  UpdateSubscriptionBody,
  UuidIdParam,
} from '../schemas/webhook-schemas.js';
import { listEventRows } from '../webhooks/webhook-event-repository.js';
import { replaySkipped } from '../webhooks/webhook-replay.js';
import {
  createSubscription,
  deleteSubscription,
  readSubscriptionSecret,
  rotateSecret,
  subscriptionNotFound,
  updateSubscription,
} from '../webhooks/webhook-subscription-commands.js';
import { findSubscriptionRow, listSubscriptionRows } from '../webhooks/webhook-subscription-repository.js';
import { toEventView, toSubscriptionView } from '../webhooks/webhook-views.js';

const tags = ['webhooks'];
const security = [{ bearer: [] }];
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const path = '/api/admin/webhookSubscription';

const listRoute = createRoute({
  method: 'get',
  path,
  operationId: 'listWebhookSubscriptions',
  tags,
  summary: 'List webhook subscriptions, oldest first (keyset pagination)',
  security,
  request: { query: ListSubscriptionsQuery },
  responses: { 200: jsonContent(SubscriptionListSchema, 'One page of subscriptions'), ...errorResponses },
});

const createSubscriptionRoute = createRoute({
  method: 'post',
  path,
  operationId: 'createWebhookSubscription',
  tags,
  summary: 'Subscribe a URL to events; the response carries the Standard Webhooks secret (`secret`), shown this once',
  security,
  request: { body: jsonBody(CreateSubscriptionBody) },
  responses: { 201: jsonContent(CreatedSubscriptionSchema, 'Created, with its secret'), ...errorResponses },
});

const getRoute = createRoute({
  method: 'get',
  path: `${path}/{id}`,
  operationId: 'getWebhookSubscription',
  tags,
  summary: 'Read a webhook subscription',
  security,
  request: { params: UuidIdParam },
  responses: { 200: jsonContent(SubscriptionSchema, 'The subscription'), ...errorResponses, ...notFoundResponse },
});

const updateRoute = createRoute({
  method: 'patch',
  path: `${path}/{id}`,
  operationId: 'updateWebhookSubscription',
  tags,
  summary: 'Update some fields of a subscription; `enabled: true` re-enables one the circuit breaker disabled',
  security,
  request: { params: UuidIdParam, body: jsonBody(UpdateSubscriptionBody) },
  responses: { 200: jsonContent(SubscriptionSchema, 'Updated'), ...errorResponses, ...notFoundResponse },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: `${path}/{id}`,
  operationId: 'deleteWebhookSubscription',
  tags,
  summary: 'Delete a subscription and its attempt log',
  security,
  request: { params: UuidIdParam },
  responses: { 204: { description: 'Deleted' }, ...errorResponses, ...notFoundResponse },
});

const eventsRoute = createRoute({
  method: 'get',
  path: `${path}/{id}/event`,
  operationId: 'listWebhookAttempts',
  tags,
  summary: "A subscription's delivery attempts, newest first (keyset pagination)",
  security,
  request: { params: UuidIdParam, query: ListEventsQuery },
  responses: { 200: jsonContent(EventListSchema, 'One page of attempts'), ...errorResponses, ...notFoundResponse },
});

const replayRoute = createRoute({
  method: 'post',
  path: `${path}/{id}/replay`,
  operationId: 'replayWebhookSubscription',
  tags,
  summary: 'Send the events skipped while the subscription was disabled (each at most once)',
  security,
  request: { params: UuidIdParam },
  responses: {
    202: jsonContent(ReplayedSubscription, 'Queued'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse('The subscription is disabled; re-enable it first'),
  },
});

const secretRoute = createRoute({
  method: 'get',
  path: `${path}/{id}/secret`,
  operationId: 'getWebhookSubscriptionSecret',
  tags,
  summary: "The subscription's Standard Webhooks secret (`whsec_…`) that signs `webhook-signature`",
  security,
  request: { params: UuidIdParam },
  responses: {
    200: jsonContent(SubscriptionSecretSchema, 'The secret'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse('The stored secret was encrypted under another WEBHOOK_SECRET_KEY; rotate it'),
  },
});

const rotateSecretRoute = createRoute({
  method: 'post',
  path: `${path}/{id}/rotateSecret`,
  operationId: 'rotateWebhookSubscriptionSecret',
  tags,
  summary: 'Replace the Standard Webhooks secret; deliveries are signed with the new and the previous one for 24 h',
  security,
  request: { params: UuidIdParam },
  responses: { 200: jsonContent(RotatedSubscriptionSecretSchema, 'The new secret'), ...errorResponses, ...notFoundResponse },
});

/** `/api/admin/webhookSubscription`: CRUD of subscriptions, their Standard Webhooks secret, their attempt log, and replay of what they skipped (SPEC §7, §8, §18). */
export function registerWebhookSubscriptionRoutes(app: App, deps: AppDeps): void {
  const command = (c: Context<AppEnv>): CommandContext => ({ deps, log: c.get('log'), actor: c.get('actor') });

  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const after = cursorOf(query.cursor);
    const { rows, next } = await listSubscriptionRows(deps.db, {
      limit: query.limit,
      ...(after ? { after } : {}),
      ...(query.enabled ? { enabled: query.enabled === 'true' } : {}),
    });
    return c.json({ items: rows.map(toSubscriptionView), nextCursor: next ? encodeCursor(next) : null }, 200);
  });

  app.openapi(createSubscriptionRoute, async (c) => {
    const { row, secret } = await createSubscription(command(c), c.req.valid('json'));
    c.header('cache-control', 'no-store');
    return c.json({ ...toSubscriptionView(row), secret }, 201);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const row = await findSubscriptionRow(deps.db, id);
    if (!row) throw subscriptionNotFound(id);
    return c.json(toSubscriptionView(row), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const row = await updateSubscription(command(c), c.req.valid('param').id, c.req.valid('json'));
    return c.json(toSubscriptionView(row), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    await deleteSubscription(command(c), c.req.valid('param').id);
    return c.body(null, 204);
  });

  app.openapi(eventsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const after = cursorOf(query.cursor);
    if (!(await findSubscriptionRow(deps.db, id))) throw subscriptionNotFound(id);
    const { rows, next } = await listEventRows(deps.db, id, {
      limit: query.limit,
      ...(after ? { after } : {}),
      ...(query.success ? { success: query.success === 'true' } : {}),
    });
    return c.json({ items: rows.map(toEventView), nextCursor: next ? encodeCursor(next) : null }, 200);
  });

  app.openapi(secretRoute, async (c) => {
    const secret = await readSubscriptionSecret(command(c), c.req.valid('param').id);
    // Not for caches or proxies to keep.
    c.header('cache-control', 'no-store');
    return c.json({ secret }, 200);
  });

  app.openapi(rotateSecretRoute, async (c) => {
    const { secret, previousSecretExpiresAt } = await rotateSecret(command(c), c.req.valid('param').id);
    c.header('cache-control', 'no-store');
    return c.json({ secret, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null }, 200);
  });

  app.openapi(replayRoute, async (c) => {
    const result = await replaySkipped(command(c), c.req.valid('param').id);
    return c.json(result, 202);
  });
}

/** The position inside `cursor`, undefined without one; 400 naming `query.cursor` for one that is not ours. */
function cursorOf(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const after = decodeCursor(cursor);
  if (!after) throw new ApiProblem(400, { detail: "query.cursor: not a cursor from this list; pass a previous page's nextCursor unchanged", field: 'query.cursor' });
  return after;
}
