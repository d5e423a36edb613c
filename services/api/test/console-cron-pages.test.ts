import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, jobHandlers, type HandlerMap, type JobWorker } from '../../../shared/src/index.js';
import { startCronScheduler } from '../../../shared/src/scheduler/index.js';
import { captureLogger, sleepUntil, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'sec-fetch-site': 'same-origin' },
});

/** The cron pages in-process (`app.request`): what the browser tests do not need a browser for. */
describe('console: cron pages', () => {
  let t: TestApp | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await t?.close();
    t = undefined;
  });

  const page = async (path: string) => {
    const res = await t!.app.request(path);
    return { status: res.status, html: await res.text() };
  };

  it("shows each row's last scheduled run from BullMQ: completed, or failed with its reason, linked to the job in BullBoard", async () => {
    const handlers: HandlerMap = { ...jobHandlers, ...testHandlers };
    t = await createTestApp({ handlers, env: { APP_ENV: 'local' } });
    const { log } = captureLogger('warn');
    const scheduler = startCronScheduler({ db: t.database.db, redisUrl: TEST_REDIS_URL, prefix: t.prefix, queueName: 'jobs', handlers, logger: log, builtinSchedules: [] });
    closers.push(() => scheduler.close());
    await scheduler.waitUntilReady();
    const worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix: t.prefix, logger: log });
    closers.push(() => worker.close());

    // Every second, so a run happens within the test.
    const ok = await t.call('POST', '/api/admin/cronJob', { name: 'Every second', pattern: '* * * * * *', handler: 'echo', payload: { message: 'tick' } });
    const bad = await t.call('POST', '/api/admin/cronJob', { name: 'Always fails', pattern: '* * * * * *', handler: 'failing', payload: { list: `${t.prefix}:fails` }, maxAttempts: 1 });
    const okRow = (await ok.json()) as { id: string; jobId: string };
    const badRow = (await bad.json()) as { id: string; jobId: string };

    // A row whose pattern has not fired since it was made has no run to show.
    const later = (await (await t.call('POST', '/api/admin/cronJob', { name: 'Once a year', pattern: '0 0 1 1 *', handler: 'echo', payload: { message: 'x' } })).json()) as { id: string };
    const none = await page(`/console/cron/${later.id}`);
    expect(none.status).toBe(200);
    expect(none.html).toContain('No run on record');
    await sleepUntil(async () => (await page(`/console/cron/${okRow.id}`)).html.includes('badge ok">Completed'), { timeoutMs: 15_000, message: 'a completed run shows' });
    const done = await page(`/console/cron/${okRow.id}`);
    expect(done.html).toContain(`/bullBoard/queue/jobs/repeat%3A${okRow.jobId}%3A`);

    await sleepUntil(async () => (await page(`/console/cron/${badRow.id}`)).html.includes('badge bad">Failed'), { timeoutMs: 15_000, message: 'a failed run shows' });
    expect((await page(`/console/cron/${badRow.id}`)).html).toMatch(/boom on attempt 1/);
    const list = await page('/console/cron');
    expect(list.html).toContain('badge ok">Completed');
    expect(list.html).toContain('badge bad">Failed');
  }, 40_000);

  it('pages through the rows 20 at a time with Next page and First page links; a forged cursor is a 400 page', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    for (let i = 1; i <= 21; i++) {
      const res = await t.call('POST', '/api/admin/cronJob', { name: `Row ${String(i).padStart(2, '0')}`, pattern: '0 3 * * *', handler: 'echo', payload: { message: 'x' }, enabled: false });
      expect(res.status).toBe(201);
    }
    const first = await page('/console/cron');
    expect(first.html).toContain('Row 01');
    expect(first.html).toContain('Row 20');
    expect(first.html).not.toContain('Row 21');
    expect(first.html).not.toContain('First page');
    const next = /href="(\/console\/cron\?cursor=[^"]+)">Next page/.exec(first.html)?.[1];
    expect(next).toBeDefined();
    const second = await page(next!.replaceAll('&amp;', '&'));
    expect(second.status).toBe(200);
    expect(second.html).toContain('Row 21');
    expect(second.html).not.toContain('Row 20');
    expect(second.html).toContain('First page');
    expect(second.html).not.toContain('Next page');

    const forged = await page('/console/cron?cursor=not-a-cursor');
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('first page');
  });

  it('a missing row is a 404 page; posts about it change nothing and say so', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/console/cron/${missing}`, `/console/cron/${missing}/edit`, `/console/cron/${missing}/delete`, '/console/cron/not-a-uuid']) {
      const res = await page(path);
      expect(res.status, path).toBe(404);
      expect(res.html).toContain('There is no cron job');
    }
    for (const action of ['enable', 'disable', 'trigger', 'delete']) {
      const res = await t.app.request(`/console/cron/${missing}/${action}`, form({}));
      expect(res.status, action).toBe(404);
    }
  });

  it('a change made in the console is the API command: logged with the console actor, and the same outbox events (create, update, delete)', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const created = await t.app.request('/console/cron', form({ name: 'Audited', pattern: '0 3 * * *', handler: 'echo', payload: '{"message":"x"}', enabled: 'on', maxAttempts: '3', backoffMs: '1000' }));
    expect(created.status).toBe(303);
    const row = (await t.database.db.selectFrom('cron_job').selectAll().where('name', '=', 'Audited').executeTakeFirst())!;
    expect(created.headers.get('location')).toBe(`/console/cron/${row.id}`);
    expect((await t.app.request(`/console/cron/${row.id}/disable`, form({ back: '/console/cron' }))).headers.get('location')).toBe('/console/cron');
    expect((await t.app.request(`/console/cron/${row.id}/delete`, form({}))).status).toBe(303);
    const events = await t.database.db.selectFrom('webhook_outbox').select(['action', 'data']).where('resource', '=', 'cronJob').where('resource_id', '=', row.id).orderBy('id').execute();
    expect(events.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
    expect(events[1]!.data).toMatchObject({ id: row.id, name: 'Audited', enabled: false }); // the API's view of the row
    const logged = t.lines.filter((l) => l['cronJobId'] === row.id).map((l) => [l.msg, l['actor']]);
    expect(logged).toEqual([
      ['cron job created', 'console:local'],
      ['cron job updated', 'console:local'],
      ['cron job deleted', 'console:local'],
    ]);
  });

  it('Redis away: the cron list still shows its rows (last run unknown), the queue page is a 503 page with Retry-After', async () => {
    t = await createTestApp({ redisUrl: 'redis://127.0.0.1:1', env: { APP_ENV: 'local' } });
    await t.database.db.insertInto('cron_job').values({ job_id: 'no-redis', name: 'Still listed', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'x' } }).execute();
    const list = await page('/console/cron');
    expect(list.status).toBe(200);
    expect(list.html).toContain('Still listed');
    expect(list.html).toContain('Unknown (Redis unavailable)');
    const queues = await t.app.request('/console/queues');
    expect(queues.status).toBe(503);
    expect(queues.headers.get('retry-after')).toBe('5');
    expect(await queues.text()).toContain('the job queue (Redis) is unavailable');
  });

  it('a jobId already taken: 409 with the message under Job id, and the form as typed', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    expect((await t.call('POST', '/api/admin/cronJob', { name: 'First', pattern: '0 3 * * *', handler: 'echo', payload: { message: 'x' }, jobId: 'taken-id' })).status).toBe(201);
    const res = await t.app.request('/console/cron', form({ name: 'Second', pattern: '0 4 * * *', handler: 'echo', payload: '{"message":"y"}', enabled: 'on', maxAttempts: '3', backoffMs: '1000', jobId: 'taken-id' }));
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toMatch(/<span class="error" id="field-jobId-error">[^<]*already exists/);
    expect(html).toContain('value="Second"');
    const rows = await t.database.db.selectFrom('cron_job').select('name').execute();
    expect(rows.map((r) => r.name)).toEqual(['First']);
  });

  it('bad JSON and non-numbers are errors beside their fields, never a 500', async () => {
    t = await createTestApp({ env: { APP_ENV: 'local' } });
    const res = await t.app.request('/console/cron', form({ name: '', pattern: '0 3 * * *', handler: 'echo', payload: '{not json', maxAttempts: 'three', backoffMs: '-5' }));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/id="field-payload-error">not valid JSON/);
    expect(html).toMatch(/id="field-maxAttempts-error">must be a whole number/);
    // Zod's own messages come once JSON and numbers read.
    const res2 = await t.app.request('/console/cron', form({ name: '', pattern: '0 3 * * *', handler: 'nope', payload: '{}', maxAttempts: '3', backoffMs: '-5' }));
    expect(res2.status).toBe(400);
    const html2 = await res2.text();
    expect(html2).toMatch(/id="field-name-error">/);
    expect(html2).toMatch(/id="field-backoffMs-error">/);
    expect(await t.database.db.selectFrom('cron_job').select('id').execute()).toEqual([]);
  });
});
