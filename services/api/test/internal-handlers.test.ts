import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobHandlers } from '../../../shared/src/index.js';
import type { SendWebhookPayload } from '../../../shared/src/webhooks/index.js';
import { createTestApp, mintToken, type TestApp } from './helpers/test-app.js';

const delivery: SendWebhookPayload = { subscriptionId: '00000000-0000-4000-8000-000000000001', action: 'create', resourceId: 'x', data: { forged: true }, webhookId: 'evt_forged' };
/** A valid payload for each internal handler: only the `internal` flag can refuse them. */
const internalBodies = [
  { handler: 'sendWebhook', payload: delivery },
  { handler: 'webhookEventRetention', payload: {} },
];
type Problem = { status: number; field?: string; detail?: string };

// SPEC §14: the HTTP API never enqueues an internal handler, whatever the scope; cron rows cannot
// name one. The library still enqueues them (the outbox relay, replays and built-in schedules do).
describe('internal handlers', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ auth: true });
  });
  afterEach(() => t.close());

  const queued = () => t.deps.jobs.queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed');
  const nothing = { waiting: 0, delayed: 0, prioritized: 0, active: 0, completed: 0, failed: 0 };

  it('POST /api/admin/job answers 400 naming body.handler for jobs:admin and jobs:enqueue alike, with or without Idempotency-Key, and enqueues nothing', async () => {
    const tokens = { admin: await mintToken({ scope: 'jobs:admin' }), enqueue: await mintToken({ scope: 'jobs:enqueue' }), both: await mintToken({ scope: 'jobs:admin jobs:enqueue' }) };
    for (const [who, token] of Object.entries(tokens)) {
      for (const body of internalBodies) {
        for (const headers of [{}, { 'idempotency-key': `k-${who}-${body.handler}` }] as Record<string, string>[]) {
          const res = await t.call('POST', '/api/admin/job', body, { token, headers });
          expect(res.status, `${who} ${body.handler}`).toBe(400);
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          const problem = (await res.json()) as Problem;
          expect(problem.field).toBe('body.handler');
          expect(problem.detail).toMatch(new RegExp(`"${body.handler}" is internal`));
        }
      }
    }
    expect(await queued()).toEqual(nothing);
    // An ordinary handler still goes through with the same tokens.
    const ok = await t.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'hi' } }, { token: tokens.enqueue });
    expect(ok.status).toBe(201);
  });

  it('a cron job cannot name an internal handler: create and update answer 400 naming body.handler', async () => {
    const token = await mintToken({ scope: 'jobs:admin' });
    for (const body of internalBodies) {
      const res = await t.call('POST', '/api/admin/cronJob', { name: 'sneaky', pattern: '* * * * *', ...body }, { token });
      expect(res.status, body.handler).toBe(400);
      expect(((await res.json()) as Problem).field).toBe('body.handler');
    }
    // An unknown handler is answered with the handlers a cron job may name: not the internal ones.
    const unknown = await t.call('POST', '/api/admin/cronJob', { name: 'typo', pattern: '* * * * *', handler: 'ecko' }, { token });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()) as Problem & { knownHandlers?: string[] }).toMatchObject({ field: 'body.handler', knownHandlers: ['echo'], detail: 'unknown handler "ecko"; known: echo' });
    const created = await t.call('POST', '/api/admin/cronJob', { name: 'fine', pattern: '* * * * *', handler: 'echo', payload: { message: 'hi' } }, { token });
    expect(created.status).toBe(201);
    const row = (await created.json()) as { id: string };
    for (const body of internalBodies) {
      const res = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, body, { token });
      expect(res.status, body.handler).toBe(400);
      expect(((await res.json()) as Problem).field).toBe('body.handler');
    }
    const rows = await t.database.db.selectFrom('cron_job').select('handler').execute();
    expect(rows).toEqual([{ handler: 'echo' }]);
  });

  it('a row written in SQL that names an internal handler: triggering it answers 409 and enqueues nothing; PATCH can still disable it or move it to another handler', async () => {
    const token = await mintToken({ scope: 'jobs:admin' });
    const row = await t.database.db
      .insertInto('cron_job')
      .values({ job_id: 'sql-written', name: 'by hand', pattern: '* * * * *', handler: 'webhookEventRetention', payload: {} })
      .returning('id')
      .executeTakeFirstOrThrow();
    const trigger = await t.call('POST', `/api/admin/cronJob/${row.id}/trigger`, undefined, { token });
    expect(trigger.status).toBe(409);
    expect(((await trigger.json()) as Problem).detail).toMatch(/"webhookEventRetention" is internal/);
    expect(await queued()).toEqual(nothing);
    // A change that keeps it enabled with its handler is refused, naming the handler it has.
    const rename = await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { name: 'renamed' }, { token });
    expect(rename.status).toBe(400);
    expect(((await rename.json()) as Problem).field).toBe('body.handler');
    expect((await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { enabled: false }, { token })).status).toBe(200);
    expect((await t.call('PATCH', `/api/admin/cronJob/${row.id}`, { handler: 'echo', payload: { message: 'hi' }, enabled: true }, { token })).status).toBe(200);
  });

  it('GET /api/admin/handler marks internal handlers, and the OpenAPI schema has the field', async () => {
    const res = await t.call('GET', '/api/admin/handler', undefined, { token: await mintToken({ scope: 'jobs:admin' }) });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ name: string; internal: boolean }> };
    expect(Object.fromEntries(items.map((h) => [h.name, h.internal]))).toEqual({ echo: false, sendWebhook: true, webhookEventRetention: true });
    const doc = (await (await t.call('GET', '/api/openapi.json')).json()) as { components: { schemas: Record<string, { required?: string[]; properties: Record<string, { type?: string }> }> } };
    expect(doc.components.schemas.Handler!.properties.internal).toMatchObject({ type: 'boolean' });
    expect(doc.components.schemas.Handler!.required).toContain('internal');
  });

  it('the library client still enqueues internal handlers (the outbox relay, replays and built-in schedules rely on it)', async () => {
    const id = await t.deps.jobs.enqueueJob('sendWebhook', delivery);
    expect(await t.deps.jobs.getJob(id)).toMatchObject({ handler: 'sendWebhook', type: 'adhoc', state: 'waiting', payload: delivery });
    expect(jobHandlers.sendWebhook.internal).toBe(true);
    expect(jobHandlers.echo.internal).toBe(false);
  });
});
