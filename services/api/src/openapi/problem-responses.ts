import { MAX_BODY_BYTES } from '../middleware/json-body.js';
import { operationsOf, type OpenApiDocument } from './document-types.js';

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/**
 * What the API answers with a problem whatever the route says: the JSON body middleware's 413
 * and 415 on every route that takes a body, and `Retry-After` on the 503s (error-handler.ts).
 */
const BODY_RESPONSES: Record<string, string> = {
  413: `The body is over ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / 1024 / 1024} MiB)`,
  415: 'The body is not JSON (send Content-Type: application/json)',
};

/**
 * Makes the document say what the API does on errors under `/api/`: every 4xx/5xx response is
 * `application/problem+json` (RFC 9457) with the shared `Problem` schema, routes with a body list
 * 413 and 415, and 503 carries `Retry-After`. Routes declare only what is theirs.
 *
 * @example
 * completeProblemResponses(doc); // POST /api/admin/job: …, 413, 415 (problem+json), 503 with Retry-After
 */
export function completeProblemResponses(doc: OpenApiDocument): void {
  for (const { path, operation } of operationsOf(doc)) {
    if (!path.startsWith('/api/')) continue; // probes and JWKS answer their own bodies
    const responses = (operation.responses ??= {}) as Record<string, { description: string; content?: unknown; headers?: Record<string, unknown> }>;
    if (operation.requestBody) {
      for (const [status, description] of Object.entries(BODY_RESPONSES)) responses[status] ??= { description };
    }
    for (const [status, response] of Object.entries(responses)) {
      if (Number(status) < 400) continue;
      response.content ??= PROBLEM;
      if (status === '503') response.headers = { ...response.headers, 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };
    }
  }
}
