import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../test/helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient } from '../../../shared/src/index.js';
import { loadConfig } from '../../../shared/src/config/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';
import { startApiService, type ApiService } from '../src/api-service.js';


/** The real API on a free port, BullBoard behind basic auth, driven by Debian's Chromium. */
describe('BullBoard in a real browser', () => {
  const prefix = testPrefix('browser');
  let database: TestDatabase;
  let api: ApiService;
  let client: JobClient<typeof testHandlers>;
  let browser: Browser;
  let failedId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { log } = captureLogger('warn');
    const config = loadConfig({ APP_ENV: 'local', QUEUE_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL, BULL_BOARD_USERNAME: 'ops', BULL_BOARD_PASSWORD: 'board-pass' });
    api = await startApiService(config, log, { db: database.db, port: 0, host: '127.0.0.1' });
    client = createJobClient({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix });
    // One failed job, then no worker: a retry leaves it waiting, where the test can see it.
    const worker = createWorker({ handlers: testHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: log });
    failedId = await client.enqueueJob('failing', { list: `${prefix}:runs` }, { attempts: 1 });
    await sleepUntil(async () => (await client.getJob(failedId))?.state === 'failed', { message: 'job failed' });
    await worker.close();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await client?.close();
    await database?.close();
    await cleanupPrefix(prefix);
  });

  it('shows the queue and the failed job with its error; Retry and Pause/Resume act on the real queue', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 'board-pass' } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${api.port}/bullBoard`);
    await page.getByRole('link', { name: 'jobs' }).first().waitFor();

    await page.goto(`http://127.0.0.1:${api.port}/bullBoard/queue/jobs?status=failed`);
    await page.getByText('boom on attempt 1').first().waitFor();
    await page.getByText('failing').first().waitFor();
    await page.getByRole('tab', { name: 'Data' }).click();
    await page.getByText('"adhoc"').first().waitFor(); // the job type travels in the data envelope

    const shots = resolve('test-results');
    mkdirSync(shots, { recursive: true });
    const shot = resolve(shots, 'bullboard-failed-job.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`BullBoard screenshot: ${shot}`);

    // The first action of a job card is Retry.
    await page.locator('button.button-GXX8BV').first().click();
    await page.getByText('Are you sure that you want to retry this job?').waitFor();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await sleepUntil(async () => (await client.getJob(failedId))?.state === 'waiting', { message: 'job retried through BullBoard' });

    await page.locator('button[aria-haspopup=menu]').click();
    await page.getByRole('menuitem', { name: 'Pause' }).click();
    await confirmIfAsked(page);
    await sleepUntil(() => client.queue.isPaused(), { message: 'queue paused through BullBoard' });
    await page.locator('button[aria-haspopup=menu]').click();
    await page.getByRole('menuitem', { name: 'Resume' }).click();
    await confirmIfAsked(page);
    await sleepUntil(async () => !(await client.queue.isPaused()), { message: 'queue resumed through BullBoard' });
    await context.close();
  }, 60_000);

  it('a form on a foreign page, posted by the signed-in browser, cannot add a job (CSRF)', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 'board-pass' } });
    const page = await context.newPage();
    // The attacker's page, served by the browser itself under another origin.
    const target = `http://127.0.0.1:${api.port}/bullBoard/api/queues/jobs/add`;
    // text/plain sends `name=value`; this name/value pair makes the body the JSON BullBoard parses.
    const attack = `<form id="f" method="POST" action="${target}" enctype="text/plain">
      <input name='{"name":"failing","data":{"list":"csrf"},"x":"' value='"}'></form>`;
    await page.route('http://attacker.test/**', (route) => route.fulfill({ contentType: 'text/html', body: attack }));
    await page.goto('http://attacker.test/page');
    const counts = () => client.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed', 'prioritized');
    const before = await counts();
    const [response] = await Promise.all([page.waitForResponse(target), page.locator('#f').evaluate((form) => (form as unknown as { submit(): void }).submit())]);
    expect(response.status()).toBe(403);
    expect(await counts()).toEqual(before);
    await context.close();
  });

  it('without credentials the browser gets 401', async () => {
    const context = await browser.newContext();
    const response = await context.request.get(`http://127.0.0.1:${api.port}/bullBoard`);
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toMatch(/^Basic/);
    await context.close();
  });
});

/** Queue actions may ask "Are you sure?" depending on BullBoard's settings; answer yes. */
async function confirmIfAsked(page: Page): Promise<void> {
  const confirm = page.getByRole('button', { name: 'Confirm' });
  const asked = await confirm.waitFor({ state: 'visible', timeout: 2_000 }).then(() => true, () => false);
  if (asked) await confirm.click();
}
