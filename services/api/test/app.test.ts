import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/index.js';
import { captureLogger } from '../../../test/helpers/index.js';
import { createApp, type AppDeps } from '../src/app.js';

const config = loadConfig({ APP_ENV: 'test', DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });

function makeApp(checks: AppDeps['checks'] = {}, readinessTimeoutMs?: number) {
  const { log, lines } = captureLogger();
  return { app: createApp({ config, log, checks, ...(readinessTimeoutMs ? { readinessTimeoutMs } : {}) }), lines };
}

describe('api app', () => {
  it('answers /healthz with 200, with or without a trailing slash', async () => {
    const { app } = makeApp();
    for (const path of ['/healthz', '/healthz/']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    }
  });

  it('answers /readyz with 200 when every check passes', async () => {
    const { app } = makeApp({ redis: async () => 'PONG', db: async () => [] });
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { redis: 'ok', db: 'ok' } });
  });

  it('answers /readyz with 503 naming the checks that fail or hang, without their errors', async () => {
    const { app, lines } = makeApp(
      {
        redis: async () => 'PONG',
        db: async () => {
          throw new Error('connect ECONNREFUSED 10.0.0.7:5432');
        },
        slow: () => new Promise(() => {}),
      },
      100,
    );
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable', checks: { redis: 'ok', db: 'down', slow: 'down' }, down: ['db', 'slow'] });
    expect(text).not.toContain('10.0.0.7');
    expect(lines.find((l) => l.msg === 'not ready')).toMatchObject({ down: ['db', 'slow'] });
  });

  it('answers unknown routes with a 404 problem document', async () => {
    const { app } = makeApp();
    const res = await app.request('/no/such/route', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'no route for POST /no/such/route' });
  });

  it('answers an unexpected error with a 500 problem document that leaks nothing, and logs it', async () => {
    const { app, lines } = makeApp();
    app.get('/boom', () => {
      throw new Error('password=hunter2 at /srv/secret.ts');
    });
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ type: 'about:blank', title: 'Internal Server Error', status: 500 });
    expect(text).not.toContain('hunter2');
    expect(lines.find((l) => l.msg === 'unhandled error')).toMatchObject({ path: '/boom', err: { message: 'password=hunter2 at /srv/secret.ts' } });
  });
});
