import type { HandlerMap } from '@jobs/shared';
import type { App } from '../app-env.js';
import type { OpenApiDocument } from './document-types.js';
import { typeBodiesPerHandler } from './handler-bodies.js';
import { completeProblemResponses } from './problem-responses.js';

const TAGS = [
  { name: 'jobs', description: 'Enqueue (one or a batch), inspect, list and cancel jobs; the registered handlers' },
  { name: 'queues', description: 'Queues: counts, pause and resume, retry failed jobs, clean finished ones' },
  { name: 'cronJobs', description: 'Cron jobs: rows the scheduler turns into BullMQ job schedulers' },
  { name: 'webhooks', description: 'Webhook subscriptions, their delivery log and replays, published events, the signing keys' },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics (public)' },
  { name: 'documentation', description: 'This document and its viewer (public)' },
];

/**
 * The API's OpenAPI 3.1 document: what the routes' zod schemas generate, with the request bodies
 * that name a handler typed per handler of `handlers` (the set is per deployment), problem+json
 * on every error response, and the metadata a linter and a client generator look for.
 *
 * @example
 * const doc = buildOpenApiDocument(app, deps.handlers); // after every route is registered
 */
export function buildOpenApiDocument(app: App, handlers: HandlerMap): OpenApiDocument {
  // A copy: the post-processing below must not reach into the registry's own objects.
  const doc = structuredClone(
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Jobs API',
        version: '0.1.0',
        description:
          'Enqueue and inspect background jobs, manage queues, cron jobs and webhook subscriptions. ' +
          'Errors are application/problem+json (RFC 9457) whose `field` names the wrong input (`body.payload.message`). ' +
          'Admin routes take `Authorization: Bearer <JWT>`: scope `jobs:enqueue` may enqueue and read jobs, `jobs:admin` everything.',
        // The repository grants no licence (package.json: private, none declared).
        license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      },
      // Relative: the document is served by the API it describes, wherever that is mounted.
      servers: [{ url: '/', description: 'this API' }],
      security: [{ bearer: [] }],
      tags: TAGS,
    }),
  );
  typeBodiesPerHandler(doc, handlers);
  completeProblemResponses(doc);
  return doc;
}
