import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../../shared/src/db/index.js';
import { createMetricsRegistry } from '../../../shared/src/metrics/index.js';
import { sleepUntil, startTcpProxy, type TcpProxy } from '../../../test/helpers/index.js';
import { createApp } from '../src/app.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// A Postgres that stops answering gets a 503 within the query timeout, not a request that hangs.
describe('API with a silent Postgres', () => {
  let t: TestApp | undefined;
  let proxy: TcpProxy | undefined;
  let database: DatabaseHandle | undefined;
  afterEach(async () => {
    await database?.close();
    await proxy?.close();
    await t?.close();
    t = proxy = database = undefined;
  });

  it('answers 503 with Retry-After within the query timeout, and 200 once Postgres answers again', async () => {
    t = await createTestApp();
    // The same schema, reached through a proxy that can go silent, with a 1 s query timeout.
    proxy = await startTcpProxy({ targetPort: 5432 });
    database = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/test`, schema: t.database.schema, max: 2, timeouts: { statementMs: 500, queryMs: 1_000, connectMs: 1_000 } });
    const app = createApp({ ...t.deps, db: database.db, metrics: createMetricsRegistry('api', { defaultMetrics: false }) });
    expect((await app.request('/api/admin/cronJob')).status).toBe(200);

    proxy.pause();
    const started = performance.now();
    const res = await app.request('/api/admin/cronJob');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { detail: string }).detail).toMatch(/database/);
    expect(performance.now() - started).toBeLessThan(3_000);

    proxy.resume();
    await sleepUntil(async () => (await app.request('/api/admin/cronJob')).status === 200, { message: 'a 200 after Postgres answers again' });
  });
});
