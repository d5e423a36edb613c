import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/config/index.js';
import { sleepUntil } from '../../../test/helpers/index.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';
import { createVerifiedTokenCache } from '../src/auth/verified-token-cache.js';

const SECRET = 'a-test-secret-that-is-at-least-32-chars';

describe('verified token cache', () => {
  it('keeps an entry until the earlier of the token expiry and the max age', () => {
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set('short', 'a', 1_000 + 5_000, 1_000);
    cache.set('long', 'b', 1_000 + 3_600_000, 1_000);
    expect(cache.get('short', 5_999)).toBe('a');
    expect(cache.get('short', 6_000)).toBeUndefined();
    expect(cache.get('long', 60_999)).toBe('b');
    expect(cache.get('long', 61_000)).toBeUndefined();
  });

  it('does not keep a token that has already expired', () => {
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10, maxAgeMs: 60_000 });
    cache.set('expired', 'a', 999, 1_000);
    expect(cache.get('expired', 1_000)).toBeUndefined();
  });

  it('drops the oldest entry once full', () => {
    const cache = createVerifiedTokenCache<number>({ maxEntries: 3, maxAgeMs: 60_000 });
    for (let i = 0; i < 4; i++) cache.set(`t${i}`, i, undefined, 0);
    expect(cache.get('t0', 1)).toBeUndefined();
    expect([cache.get('t1', 1), cache.get('t2', 1), cache.get('t3', 1)]).toEqual([1, 2, 3]);
  });
});

describe('token verifier with the cache', () => {
  const verifier = () => createTokenVerifier(loadConfig({ APP_ENV: 'test', AUTH_JWT_SECRET: SECRET }))!;
  const sign = (exp: number | string, secret = SECRET) => new SignJWT({ scope: 'jobs:admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setExpirationTime(exp).sign(new TextEncoder().encode(secret));

  it('a token that verified is refused once it expires', async () => {
    const verify = verifier();
    // Seconds of life left, so a loaded machine still verifies it before it expires.
    const token = await sign(Math.floor(Date.now() / 1000) + 4);
    expect((await verify(token)).subject).toBe('svc');
    await sleepUntil(() => verify(token).then(() => false, (err: Error) => /expired/.test(err.message)), { timeoutMs: 15_000, intervalMs: 100, message: 'the cached token to expire' });
  });

  it('a cached token does not make a token with another signature pass', async () => {
    const verify = verifier();
    const good = await sign('1m');
    await verify(good);
    const [header, payload] = good.split('.');
    const forged = `${header}.${payload}.${(await sign('1m', 'another-secret-that-is-at-least-32-chars')).split('.')[2]}`;
    await expect(verify(forged)).rejects.toThrow(/signature/);
    expect((await verify(good)).subject).toBe('svc');
  });
});
