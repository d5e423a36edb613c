import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, type JobClient } from '../../../shared/src/index.js';
import { loadConfig } from '../../../shared/src/config/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { startApiService, type ApiService } from '../src/api-service.js';
import { consoleContext, launchChromium, screenshot, seriousA11yViolations, tabTo } from './helpers/console-browser.js';

/** SPEC §17 queue page in Debian's Chromium (console open: local without credentials), effects checked in Redis. */
describe('console: queues in a real browser', { timeout: 90_000 }, () => {
  const prefix = testPrefix('console-queues');
  let database: TestDatabase;
  let api: ApiService;
  let client: JobClient<typeof jobHandlers>;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { log } = captureLogger('warn');
    const config = loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL });
    api = await startApiService(config, log, { db: database.db, port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${api.port}`;
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    // Two waiting jobs (no worker runs here), so the counts have something to show.
    await client.enqueueJob('echo', { message: 'one' });
    await client.enqueueJob('echo', { message: 'two' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await client?.close();
    await database?.close();
    await cleanupPrefix(prefix);
  });

  it('shows each queue with its counts by state linking into BullBoard; Pause and Resume act on Redis', async () => {
    const page = await (await consoleContext(browser)).newPage();
    await page.goto(`${base}/console`); // the landing page is the cron list
    expect(new URL(page.url()).pathname).toBe('/console/cron');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Queues' }).click();
    await page.getByRole('heading', { name: /^jobs/ }).waitFor();
    const waiting = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^Waiting jobs of jobs/ }) });
    expect(await waiting.getByRole('cell').textContent()).toBe('2');
    expect(await page.getByRole('link', { name: 'Failed jobs of jobs in BullBoard' }).getAttribute('href')).toBe('/bullBoard/queue/jobs?status=failed');
    expect(await page.getByRole('link', { name: 'Open jobs in BullBoard' }).getAttribute('href')).toBe('/bullBoard/queue/jobs');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'queues');

    await page.getByRole('button', { name: 'Pause queue jobs' }).click();
    await page.getByRole('status').filter({ hasText: 'Queue "jobs" paused' }).waitFor();
    await sleepUntil(() => client.queue.isPaused(), { message: 'queue paused through the console' });
    await page.getByText('Paused', { exact: true }).waitFor();

    // Resume by keyboard alone.
    await tabTo(page, /^Resume queue jobs$/);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Queue "jobs" resumed.' }).waitFor();
    await sleepUntil(async () => !(await client.queue.isPaused()), { message: 'queue resumed through the console' });
    await page.context().close();
  });

  it('at 360 px wide: fits without sideways scrolling; screenshot', async () => {
    const page = await (await consoleContext(browser, { width: 360 })).newPage();
    await page.goto(`${base}/console/queues`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await screenshot(page, 'queues-360');
    await page.context().close();
  });

  it('a foreign page cannot pause a queue (CSRF): 403, still running', async () => {
    const page = await (await consoleContext(browser)).newPage();
    const target = `${base}/console/queues/jobs/pause`;
    await page.route('http://attacker.test/**', (route) => route.fulfill({ contentType: 'text/html', body: `<form id="f" method="POST" action="${target}"></form>` }));
    await page.goto('http://attacker.test/page');
    const [response] = await Promise.all([page.waitForResponse(target), page.locator('#f').evaluate((form) => (form as unknown as { submit(): void }).submit())]);
    expect(response.status()).toBe(403);
    expect(await client.queue.isPaused()).toBe(false);
    await page.context().close();
  });
});
