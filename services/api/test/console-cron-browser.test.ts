import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, type JobClient } from '../../../shared/src/index.js';
import { loadConfig } from '../../../shared/src/config/index.js';
import { isBuiltinScheduleId, startCronScheduler, type CronScheduler } from '../../../shared/src/scheduler/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { startApiService, type ApiService } from '../src/api-service.js';
import { consoleContext, launchChromium, screenshot, seriousA11yViolations, tabTo } from './helpers/console-browser.js';

const credentials = { username: 'ops', password: 'console-pass' };

/**
 * SPEC §17 cron pages in Debian's Chromium: the real API on a socket (console behind basic auth),
 * the real cron scheduler in-process, effects checked in Postgres and Redis.
 */
describe('console: cron jobs in a real browser', { timeout: 90_000 }, () => {
  const prefix = testPrefix('console-cron');
  let database: TestDatabase;
  let api: ApiService;
  let scheduler: CronScheduler;
  let client: JobClient<typeof jobHandlers>;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { log } = captureLogger('warn');
    const config = loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL, BULL_BOARD_USERNAME: credentials.username, BULL_BOARD_PASSWORD: credentials.password });
    api = await startApiService(config, log, { db: database.db, port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${api.port}`;
    scheduler = startCronScheduler({ db: database.db, redisUrl: TEST_REDIS_URL, prefix, queueName: 'jobs', logger: log, builtinSchedules: [] });
    await scheduler.waitUntilReady();
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await scheduler?.close();
    await api?.close();
    await client?.close();
    await database?.close();
    await cleanupPrefix(prefix);
  });

  const rowNamed = (name: string) => database.db.selectFrom('cron_job').selectAll().where('name', '=', name).executeTakeFirst();
  const schedulerIds = async () => (await client.queue.getJobSchedulers()).map((s) => s.key).filter((key) => !isBuiltinScheduleId(key));
  const newPage = async (width?: number): Promise<Page> => (await consoleContext(browser, { credentials, ...(width ? { width } : {}) })).newPage();

  /** Fills the New cron job form by its visible labels and submits it; returns the answer's status. */
  async function createThroughForm(page: Page, fields: { name: string; pattern: string; payload?: string }): Promise<number> {
    await page.goto(`${base}/console/cron`);
    await page.getByRole('link', { name: 'New cron job' }).click();
    await page.getByLabel('Name').fill(fields.name);
    await page.getByLabel('Pattern').fill(fields.pattern);
    await page.getByLabel('Handler').selectOption('echo');
    await page.getByLabel('Payload').fill(fields.payload ?? '{"message":"from the console"}');
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Create cron job' }).click()]);
    await page.waitForLoadState();
    return response.status();
  }

  it('create through the form: the row, its outbox event and, from the scheduler, its job scheduler in Redis', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Nightly report', pattern: '0 3 * * *' })).toBe(303);
    await page.getByRole('status').filter({ hasText: 'Cron job "Nightly report" created.' }).waitFor();
    const row = await rowNamed('Nightly report');
    expect(row).toMatchObject({ pattern: '0 3 * * *', handler: 'echo', payload: { message: 'from the console' }, enabled: true, max_attempts: 3 });
    // The same outbox event as the API writes.
    const events = await database.db.selectFrom('webhook_outbox').select(['resource', 'action']).where('resource_id', '=', row!.id).execute();
    expect(events).toEqual([{ resource: 'cronJob', action: 'create' }]);
    await sleepUntil(async () => (await schedulerIds()).includes(row!.job_id), { message: 'the scheduler upserted the job scheduler' });
    const stored = (await client.queue.getJobSchedulers()).find((s) => s.key === row!.job_id);
    expect(stored).toMatchObject({ pattern: '0 3 * * *', tz: 'UTC', name: 'echo' });

    // The detail page shows the pattern in words and the next three runs in UTC.
    await page.getByText('At 03:00 (UTC)').first().waitFor();
    expect(await page.locator('time').count()).toBeGreaterThanOrEqual(3);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cron-detail');

    await page.goto(`${base}/console/cron`);
    await page.getByRole('link', { name: 'Nightly report', exact: true }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cron');
    await page.context().close();
  });

  it('an invalid pattern: 400, the error right under Pattern (aria-invalid, aria-describedby), no row', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Broken pattern', pattern: '61 * * * *' })).toBe(400);
    const pattern = page.getByLabel('Pattern');
    expect(await pattern.getAttribute('aria-invalid')).toBe('true');
    expect(await pattern.getAttribute('aria-describedby')).toContain('field-pattern-error');
    const error = page.locator('#field-pattern-error');
    expect(await error.textContent()).toMatch(/minute field "61"/);
    // Beside the field: in the Pattern field's own block, right after the input.
    expect(await page.locator('.field', { has: pattern }).locator('.error').textContent()).toMatch(/minute/);
    expect(await pattern.inputValue()).toBe('61 * * * *'); // the form comes back as typed
    expect(await page.getByLabel('Name').inputValue()).toBe('Broken pattern');
    expect(await rowNamed('Broken pattern')).toBeUndefined();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cron-new-errors');

    // A payload the handler's schema refuses: the message under Payload, still no row.
    expect(await createThroughForm(page, { name: 'Bad payload', pattern: '0 4 * * *', payload: '{}' })).toBe(400);
    expect(await page.locator('#field-payload-error').textContent()).toMatch(/message/);
    expect(await rowNamed('Bad payload')).toBeUndefined();
    await page.context().close();
  });

  it('disable removes the job scheduler; enable brings it back; by keyboard alone (Tab, then Enter or Space)', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Toggle me', pattern: '*/5 * * * *' })).toBe(303);
    const row = (await rowNamed('Toggle me'))!;
    await sleepUntil(async () => (await schedulerIds()).includes(row.job_id), { message: 'scheduler created' });

    await page.goto(`${base}/console/cron`);
    await page.getByRole('button', { name: 'Disable Toggle me' }).click();
    await page.getByRole('status').filter({ hasText: 'Cron job "Toggle me" disabled.' }).waitFor();
    expect((await rowNamed('Toggle me'))!.enabled).toBe(false);
    await sleepUntil(async () => !(await schedulerIds()).includes(row.job_id), { message: 'scheduler removed after disable' });

    // Keyboard only: from the top of the detail page, Tab to "Enable", press Space.
    await page.goto(`${base}/console/cron/${row.id}`);
    await tabTo(page, /^Enable Toggle me$/);
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none'); // visible focus
    await page.keyboard.press('Space');
    await page.getByRole('status').filter({ hasText: 'enabled' }).waitFor();
    await sleepUntil(async () => (await schedulerIds()).includes(row.job_id), { message: 'scheduler back after enable' });

    // And Enter on "Disable" again.
    await page.goto(`${base}/console/cron/${row.id}`);
    await tabTo(page, /^Disable Toggle me$/);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'disabled' }).waitFor();
    await sleepUntil(async () => !(await schedulerIds()).includes(row.job_id), { message: 'scheduler removed by keyboard' });
    await page.context().close();
  });

  it('trigger now enqueues a cronTrigger job and links to it in BullBoard', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Trigger me', pattern: '0 5 * * *' })).toBe(303);
    const row = (await rowNamed('Trigger me'))!;
    await page.getByRole('button', { name: 'Trigger now Trigger me' }).click();
    const flash = page.getByRole('status').filter({ hasText: 'triggered' });
    await flash.waitFor();
    const jobId = /job (\S+) enqueued/.exec((await flash.textContent()) ?? '')?.[1];
    expect(jobId).toBeDefined();
    const job = await client.queue.getJob(jobId!);
    expect(job?.data).toMatchObject({ type: 'cronTrigger', cronJobId: row.id, payload: { message: 'from the console' } });
    expect(await flash.getByRole('link', { name: 'View it in BullBoard' }).getAttribute('href')).toBe(`/bullBoard/queue/jobs/${encodeURIComponent(jobId!)}`);
    await page.context().close();
  });

  it('edit: a bad change shows beside its field and changes nothing; a good one is saved and re-synced', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Edit me', pattern: '0 6 * * *' })).toBe(303);
    const row = (await rowNamed('Edit me'))!;
    await page.getByRole('link', { name: 'Edit Edit me' }).click();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cron-edit');
    await page.getByLabel('Max attempts').fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect(await page.locator('#field-maxAttempts-error').textContent()).toMatch(/1|small|least/i);
    expect((await rowNamed('Edit me'))!.max_attempts).toBe(3);
    await page.getByLabel('Max attempts').fill('5');
    await page.getByLabel('Pattern').fill('30 6 * * *');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'saved' }).waitFor();
    expect(await rowNamed('Edit me')).toMatchObject({ pattern: '30 6 * * *', max_attempts: 5 });
    await sleepUntil(async () => (await client.queue.getJobSchedulers()).find((s) => s.key === row.job_id)?.pattern === '30 6 * * *', { message: 'scheduler re-synced' });
    await page.context().close();
  });

  it('delete asks first; confirming removes the row and its job scheduler', async () => {
    const page = await newPage();
    expect(await createThroughForm(page, { name: 'Delete me', pattern: '0 7 * * *' })).toBe(303);
    const row = (await rowNamed('Delete me'))!;
    await sleepUntil(async () => (await schedulerIds()).includes(row.job_id), { message: 'scheduler created' });
    await page.getByRole('link', { name: 'Delete… Delete me' }).click();
    await page.getByRole('heading', { name: 'Delete cron job: Delete me' }).waitFor();
    expect(await rowNamed('Delete me')).toBeDefined(); // the confirmation page deletes nothing
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'cron-delete');
    await page.getByRole('button', { name: 'Delete cron job' }).click();
    await page.getByRole('status').filter({ hasText: 'Cron job "Delete me" deleted.' }).waitFor();
    expect(await rowNamed('Delete me')).toBeUndefined();
    await sleepUntil(async () => !(await schedulerIds()).includes(row.job_id), { message: 'scheduler removed after delete' });
    await page.context().close();
  });

  it('at 360 px wide: the list and the form fit (no sideways scroll of the page), with screenshots', async () => {
    const page = await newPage(360);
    const row = await database.db
      .insertInto('cron_job')
      .values({ job_id: 'narrow-screen', name: 'A cron job with a long name for a narrow screen', pattern: '0 9 * * MON-FRI', handler: 'echo', payload: { message: 'a payload with a long message that must wrap on a phone' } })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const [path, name] of [
      ['/console/cron', 'cron-360'],
      ['/console/cron/new', 'cron-new-360'],
      [`/console/cron/${row.id}`, 'cron-detail-360'],
      ['/console/cron/00000000-0000-4000-8000-000000000000', 'not-found-360'],
    ] as const) {
      await page.goto(`${base}${path}`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await screenshot(page, name);
    }
    await page.context().close();
  });

  it('a foreign page cannot post the form (CSRF): 403, and no row', async () => {
    const page = await newPage();
    const target = `${base}/console/cron`;
    const attack = `<form id="f" method="POST" action="${target}"><input name="name" value="CSRF row"><input name="pattern" value="* * * * *"><input name="handler" value="echo"><input name="payload" value='{"message":"x"}'><input name="enabled" value="on"></form>`;
    await page.route('http://attacker.test/**', (route) => route.fulfill({ contentType: 'text/html', body: attack }));
    await page.goto('http://attacker.test/page');
    const [response] = await Promise.all([page.waitForResponse(target), page.locator('#f').evaluate((form) => (form as unknown as { submit(): void }).submit())]);
    expect(response.status()).toBe(403);
    expect(await rowNamed('CSRF row')).toBeUndefined();
    await page.context().close();
  });

  it('without credentials the browser gets 401', async () => {
    const context = await browser.newContext();
    const response = await context.request.get(`${base}/console/cron`);
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toMatch(/^Basic/);
    await context.close();
  });
});
