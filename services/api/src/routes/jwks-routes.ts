import { createRoute } from '@hono/zod-openapi';
import { jwks, type SigningKeys } from '@jobs/shared/webhooks';
import type { App } from '../app-env.js';
import { jsonContent } from '../schemas/common-schemas.js';
import { JwksSchema } from '../schemas/webhook-schemas.js';

const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getJwks',
  tags: ['webhooks'],
  security: [], // public: receivers fetch it without a token
  summary: 'The public keys that verify webhook signatures (kid = RFC 7638 thumbprint)',
  responses: { 200: jsonContent(JwksSchema, 'JSON Web Key Set (public members only)') },
});

/**
 * `GET /.well-known/jwks.json`: public, no auth. Receivers cache it for five minutes; during a
 * key rotation it lists the next key too, so they learn it before it signs alone.
 */
export function registerJwksRoutes(app: App, signingKeys: SigningKeys): void {
  const body = jwks(signingKeys);
  app.openapi(jwksRoute, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(body, 200);
  });
}
