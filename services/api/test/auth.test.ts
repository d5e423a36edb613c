import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/config/index.js';
import { captureLogger } from '../../../test/helpers/index.js';
import { AuthNotConfiguredError, resolveAuth } from '../src/auth/auth-policy.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

type Problem = { status: number; detail: string };

describe('admin API auth (HS256 secret, issuer and audience checked)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ auth: true });
  });
  afterAll(() => t.close());
  const enqueue = (token?: string) => t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } }, token ? { token } : {});

  it('401 without a token, with WWW-Authenticate', async () => {
    const res = await enqueue();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('401 for a bad signature, an expired token, a token without exp, a wrong audience or issuer, and a non-bearer header', async () => {
    const cases: [string, string, RegExp][] = [
      ['bad signature', await mintToken({ scope: 'jobs:admin' }, 'another-secret-that-is-at-least-32-chars'), /signature/],
      ['expired', await mintToken({ scope: 'jobs:admin', exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      // A token that never expires would stay valid forever once leaked.
      ['without exp', await mintToken({ scope: 'jobs:admin', exp: null }), /exp is required/],
      ['wrong audience', await mintToken({ scope: 'jobs:admin', aud: 'someone-else' }), /"aud"/],
      ['wrong issuer', await mintToken({ scope: 'jobs:admin', iss: 'evil' }), /"iss"/],
      ['garbage', 'not.a.jwt', /invalid/],
    ];
    for (const [name, token, detail] of cases) {
      const res = await enqueue(token);
      expect(res.status, name).toBe(401);
      expect(((await res.json()) as Problem).detail, name).toMatch(detail);
    }
    const basic = await t.call('GET', '/api/admin/handler', undefined, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(basic.status).toBe(401);
  });

  it('403 when the scope is missing; jobs:enqueue may enqueue and read jobs but nothing else', async () => {
    const none = await mintToken({ scope: 'profile' });
    expect((await enqueue(none)).status).toBe(403);
    const enqueuer = await mintToken({ scope: 'jobs:enqueue' });
    const created = await enqueue(enqueuer);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await t.call('GET', `/api/admin/job/${id}`, undefined, { token: enqueuer })).status).toBe(200);
    expect((await t.call('DELETE', `/api/admin/job/${id}`, undefined, { token: enqueuer })).status).toBe(403);
    expect((await t.call('GET', '/api/admin/handler', undefined, { token: enqueuer })).status).toBe(403);
  });

  it('jobs:admin allows everything; scopes may come as an `scp` array', async () => {
    const admin = await mintToken({ scp: ['jobs:admin'] });
    expect((await t.call('GET', '/api/admin/handler', undefined, { token: admin })).status).toBe(200);
    expect((await enqueue(admin)).status).toBe(201);
  });

  it('logs the token subject as the actor', async () => {
    await enqueue(await mintToken({ scope: 'jobs:enqueue', sub: 'billing-service' }));
    expect(t.lines.some((l) => l.msg === 'request' && l.actor === 'billing-service' && l.status === 201)).toBe(true);
    // The token itself never reaches the log.
    expect(t.lines.some((l) => JSON.stringify(l).includes('eyJ'))).toBe(false);
  });

  it('health, metrics and the OpenAPI document stay public', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json']) expect((await t.call('GET', path)).status, path).toBe(200);
  });
});

describe('token sources', () => {
  it('verifies RS256 tokens against a PEM public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const verify = createTokenVerifier(loadConfig({ APP_ENV: 'test', AUTH_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() }))!;
    const token = await new SignJWT({ scope: 'jobs:admin jobs:enqueue' }).setProtectedHeader({ alg: 'RS256' }).setSubject('svc').setExpirationTime('1m').sign(privateKey);
    expect(await verify(token)).toEqual({ subject: 'svc', named: true, scopes: new Set(['jobs:admin', 'jobs:enqueue']) });
    // An HS256 token "signed" with the public key text must not pass (algorithm confusion).
    const confused = await new SignJWT({ scope: 'jobs:admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }).toString()));
    await expect(verify(confused)).rejects.toThrow(/algorithm/);
    // Whatever the key source, a token without exp is refused.
    const forever = await new SignJWT({ scope: 'jobs:admin' }).setProtectedHeader({ alg: 'RS256' }).setSubject('svc').sign(privateKey);
    await expect(verify(forever)).rejects.toThrow('token has no exp claim; exp is required (tokens must expire)');
  });
});

describe('auth policy at start', () => {
  it('refuses to start outside local without auth, naming the variables', () => {
    const config = loadConfig({ APP_ENV: 'production', DATABASE_URL: 'postgres://x@127.0.0.1/db', WEBHOOK_SIGNING_KEY_FILE: '/k', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' });
    expect(() => resolveAuth(config, captureLogger().log)).toThrow(AuthNotConfiguredError);
    expect(() => resolveAuth(config, captureLogger().log)).toThrow(/AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL/);
  });

  it('runs open in local without auth, with a warning', () => {
    const { log, lines } = captureLogger();
    expect(resolveAuth(loadConfig({ APP_ENV: 'local' }), log)).toBeUndefined();
    expect(lines.some((l) => l.level === 40 && /open/.test(l.msg))).toBe(true);
  });
});
