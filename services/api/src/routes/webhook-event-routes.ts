import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { App, AppDeps, AppEnv } from '../app-env.js';
import type { CommandContext } from '../cron/cron-job-commands.js';
import { conflictResponse, errorResponses, jsonContent, notFoundResponse } from '../schemas/common-schemas.js';
import { PublishedEvent, PublishEventBody, ReplayedEvent, UuidIdParam } from '../schemas/webhook-schemas.js';
import { publishEvent } from '../webhooks/publish-event.js';
import { replayEvent } from '../webhooks/webhook-replay.js';

const tags = ['webhooks'];
const security = [{ bearer: [] }];
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const replayRoute = createRoute({
  method: 'post',
  path: '/api/admin/webhookEvent/{id}/replay',
  operationId: 'replayWebhookEvent',
  tags,
  summary: "Deliver an attempt's event again (same event id, so receivers can dedupe)",
  security,
  request: { params: UuidIdParam },
  responses: {
    202: jsonContent(ReplayedEvent, 'Queued'),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponse('The subscription is disabled; re-enable it first'),
  },
});

const publishRoute = createRoute({
  method: 'post',
  path: '/api/admin/event',
  operationId: 'publishEvent',
  tags,
  summary: "Publish another service's change to the subscribers of `resource.action`",
  description: 'Stored first (outbox), then fanned out: accepted even while the queue is down, delivered once it is back.',
  security,
  request: { body: jsonBody(PublishEventBody) },
  responses: { 202: jsonContent(PublishedEvent, 'Accepted'), ...errorResponses },
});

/** `POST /api/admin/webhookEvent/:id/replay` and `POST /api/admin/event` (SPEC §7, §8). */
export function registerWebhookEventRoutes(app: App, deps: AppDeps): void {
  const command = (c: Context<AppEnv>): CommandContext => ({ deps, log: c.get('log'), actor: c.get('actor') });

  app.openapi(replayRoute, async (c) => {
    const result = await replayEvent(command(c), c.req.valid('param').id);
    return c.json(result, 202);
  });

  app.openapi(publishRoute, async (c) => {
    const result = await publishEvent(command(c), c.req.valid('json'));
    return c.json(result, 202);
  });
}
