import type { HandlerMap } from '@jobs/shared';
import type { App } from '../app-env.js';
import { DOCS_ASSETS_PATH, DOCS_CSP, DOCS_HTML, DOCS_INIT_PATH, DOCS_INIT_SCRIPT, DOCS_PATH } from '../docs/docs-page.js';
import { swaggerUiAsset } from '../docs/swagger-ui-assets.js';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';
import { problem } from '../problem.js';

const FOR_A_YEAR = 'public, max-age=31536000, immutable';

/**
 * `GET /api/openapi.json` (generated from the schemas that validate, bodies typed per handler of
 * `handlers`) and its viewer at `/api/docs`: Swagger UI served from the installed package. Both
 * are public, like the probes: they describe the API, they do not act on it.
 */
export function registerOpenApiRoutes(app: App, handlers: HandlerMap): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const doc = (path: string, operationId: string, summary: string, type: string) =>
    app.openAPIRegistry.registerPath({
      method: 'get',
      path,
      operationId,
      tags: ['documentation'],
      security: [],
      summary,
      responses: { 200: { description: summary, content: { [type]: { schema: { type: type === 'text/html' ? 'string' : 'object' } } } } },
    });
  doc('/api/openapi.json', 'getOpenApiDocument', 'This OpenAPI 3.1 document', 'application/json');
  doc(DOCS_PATH, 'getApiDocs', 'The API reference (Swagger UI) over this document', 'text/html');

  // Built at the first request, when every route has registered; fixed after that, as the routes are.
  let body: string | undefined;
  app.get('/api/openapi.json', (c) => {
    body ??= JSON.stringify(buildOpenApiDocument(app, handlers));
    return c.body(body, 200, { 'content-type': 'application/json' });
  });

  app.get(DOCS_PATH, (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    return c.html(DOCS_HTML);
  });
  app.get(DOCS_INIT_PATH, (c) => c.body(DOCS_INIT_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }));
  app.get(`${DOCS_ASSETS_PATH}/:file`, async (c) => {
    const asset = await swaggerUiAsset(c.req.param('file'));
    // Not c.notFound(): the app's handler would see this route's pattern and answer 405.
    if (!asset) return problem(c, 404, { detail: `no docs asset ${c.req.param('file')}` });
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    const headers: Record<string, string> = { 'content-type': asset.contentType, 'cache-control': FOR_A_YEAR, 'x-content-type-options': 'nosniff', vary: 'Accept-Encoding' };
    if (gzip) headers['content-encoding'] = 'gzip';
    return c.body(new Uint8Array(gzip ? asset.gzipped : asset.body), 200, headers);
  });
}
