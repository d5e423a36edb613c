import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/config/index.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';

/** AUTH_JWKS_URL against a real HTTP server publishing one key (http is allowed in test). */
describe('JWKS token source', () => {
  let server: Server;
  let url: string;
  let privateKey: CryptoKey;
  let fetches = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies a token signed by a published key, and refuses one without exp', async () => {
    const verify = createTokenVerifier(loadConfig({ APP_ENV: 'test', AUTH_JWKS_URL: url }))!;
    const sign = (exp: boolean) => {
      const jwt = new SignJWT({ scope: 'jobs:admin' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('svc');
      if (exp) jwt.setExpirationTime('1m');
      return jwt.sign(privateKey);
    };
    expect(await verify(await sign(true))).toEqual({ subject: 'svc', named: true, scopes: new Set(['jobs:admin']) });
    expect(fetches).toBe(1);
    await expect(verify(await sign(false))).rejects.toThrow('token has no exp claim; exp is required (tokens must expire)');
  });
});
