import { SWAGGER_UI_VERSION } from './swagger-ui-assets.js';

/** Where the page, its initializer and its assets live. */
export const DOCS_PATH = '/api/docs';
export const DOCS_INIT_PATH = `${DOCS_PATH}/init.js`;
export const DOCS_ASSETS_PATH = `${DOCS_PATH}/assets/${SWAGGER_UI_VERSION}`;

/**
 * The page's policy: scripts only from this origin (the initializer is a file, not inline), so an
 * injected script cannot run; requests only to this origin. Swagger UI sets `style` attributes
 * and draws some icons as data: URIs, hence those two allowances.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The docs page: Swagger UI from the installed swagger-ui-dist, over `/api/openapi.json`. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jobs API</title>
<link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<main>
<div id="swagger-ui"><p>Loading the API reference… The OpenAPI 3.1 document itself is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></div>
</main>
<script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_INIT_PATH}"></script>
</body>
</html>
`;

/**
 * Starts Swagger UI. `validatorUrl: null` keeps it from sending the document to
 * validator.swagger.io (the page makes no request off this origin); the token typed into
 * "Authorize" stays in the tab, never in storage.
 */
export const DOCS_INIT_SCRIPT = `'use strict';
window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
  defaultModelsExpandDepth: 0,
  defaultModelExpandDepth: 4,
  displayOperationId: true,
  docExpansion: 'list',
});
`;
