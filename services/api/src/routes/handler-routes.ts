import { createRoute, z } from '@hono/zod-openapi';
import { toJSONSchema } from 'zod';
import type { AnyJobDefinition } from '@jobs/shared';
import type { App, AppDeps } from '../app-env.js';
import { errorResponses, jsonContent } from '../schemas/common-schemas.js';
import { HandlerInfoSchema } from '../schemas/job-schemas.js';

const listRoute = createRoute({
  method: 'get',
  path: '/api/admin/handler',
  operationId: 'listHandlers',
  tags: ['jobs'],
  summary: 'Registered handlers, their pattern, whether they are internal, and payload JSON Schema',
  security: [{ bearer: [] }],
  responses: { 200: jsonContent(z.object({ items: z.array(HandlerInfoSchema) }), 'The handlers'), ...errorResponses },
});

function payloadSchemaOf(def: AnyJobDefinition): Record<string, unknown> {
  if (!def.schema) return {}; // any JSON value
  try {
    return toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** `GET /api/admin/handler`. The list is fixed at start, so it is built once. */
export function registerHandlerRoutes(app: App, deps: AppDeps): void {
  const items = Object.entries(deps.handlers).map(([name, def]) => ({ name, pattern: def.pattern, internal: def.internal === true, payloadSchema: payloadSchemaOf(def) }));
  app.openapi(listRoute, (c) => c.json({ items }, 200));
}
