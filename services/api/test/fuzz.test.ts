import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Property: no input makes the API answer 5xx. Random JSON (biased towards the real field
 * names), random raw bodies and random headers go to every POST/PATCH route.
 */
describe('fuzz: no input yields a 5xx', () => {
  let t: TestApp;
  let cronId: string;
  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.call('POST', '/api/admin/cronJob', { name: 'fuzz', pattern: '0 * * * *', handler: 'echo', payload: { message: 'x' } });
    cronId = res.status === 201 ? ((await res.json()) as { id: string }).id : '00000000-0000-0000-0000-000000000000';
  });
  afterAll(() => t.close());

  const fieldNames = ['handler', 'payload', 'options', 'delay', 'priority', 'attempts', 'backoffMs', 'dedupeKey', 'message', 'delayMs', 'name', 'pattern', 'jobId', 'enabled', 'maxAttempts', '__proto__', 'constructor'];
  const leaf = fc.oneof(
    fc.constantFrom('echo', 'nope', '* * * * *', '0 0 31 2 *', '', '../../etc/passwd', "'; drop table cron_job; --", 'constructor', '__proto__', '\u0000', '🦄'.repeat(50)),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(fc.constantFrom(...fieldNames), tie('tree'), { maxKeys: 6 })),
  }));
  const body = fc.oneof(
    tree.map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 200 }),
    fc.constantFrom('{', '[]', '{"handler":"echo","payload":' + '['.repeat(5000), '{"a":' + '{"a":'.repeat(2000) + '1' + '}'.repeat(2001)),
  );
  const headers = fc.record({
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/merge-patch+json', 'multipart/form-data', ''),
    'idempotency-key': fc.option(fc.string({ minLength: 1, maxLength: 300 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), { nil: undefined }),
    'x-request-id': fc.option(fc.stringMatching(/^[\x21-\x7e]{0,200}$/), { nil: undefined }),
  });
  const routes = (): [string, string][] => [
    ['POST', '/api/admin/job'],
    ['POST', '/api/admin/cronJob'],
    ['PATCH', `/api/admin/cronJob/${cronId}`],
    ['POST', `/api/admin/cronJob/${cronId}/trigger`],
    ['PATCH', '/api/admin/cronJob/not-a-uuid'],
  ];

  it('answers every random body and header on every POST/PATCH route below 500', async () => {
    for (const [method, path] of routes()) {
      await fc.assert(
        fc.asyncProperty(body, headers, async (raw, h) => {
          const hdrs = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
          const res = await t.app.request(path, { method, body: raw, headers: hdrs });
          if (res.status >= 500) throw new Error(`${method} ${path} → ${res.status} for ${raw.slice(0, 200)} ${JSON.stringify(hdrs)}: ${await res.text()}`);
          expect(res.headers.get('content-type')).toMatch(/json/);
        }),
        { numRuns: 150 },
      );
    }
  }, 120_000);

  it('answers random ids in paths below 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300 }), fc.constantFrom('GET', 'DELETE', 'PATCH'), async (id, method) => {
        const res = await t.app.request(`/api/admin/job/${encodeURIComponent(id)}`, { method });
        expect(res.status).toBeLessThan(500);
        const cron = await t.app.request(`/api/admin/cronJob/${encodeURIComponent(id)}`, { method });
        expect(cron.status).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
