import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, jobHandlers, type JobClient, type JobWorker } from '../../../shared/src/index.js';
import { loadConfig } from '../../../shared/src/config/index.js';
import { createMetricsRegistry } from '../../../shared/src/metrics/index.js';
import { startReceiver, type Receiver } from '../../../shared/test/webhooks/receiver.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { createWebhookRuntime } from '../../worker/src/webhook-runtime.js';
import { startApiService, type ApiService } from '../src/api-service.js';
import { consoleContext, launchChromium, screenshot, seriousA11yViolations } from './helpers/console-browser.js';

const CREDENTIALS = { username: 'ops', password: 'console-pass' };

/**
 * The console's webhook pages in Debian's Chromium against the real API, Postgres, Redis and an
 * in-process worker delivering to a local receiver the test controls.
 */
describe('console webhook pages in a real browser', () => {
  const prefix = testPrefix('console-wh');
  let dataDir: string;
  let database: TestDatabase;
  let api: ApiService;
  let client: JobClient<typeof jobHandlers>;
  let worker: JobWorker;
  let closeRuntime: () => Promise<void>;
  let receiver: Receiver;
  let failing = true;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'console-wh-'));
    database = await createTestDatabase();
    const { log } = captureLogger('warn');
    const config = loadConfig({
      APP_ENV: 'local',
      QUEUE_PREFIX: prefix,
      REDIS_URL: TEST_REDIS_URL,
      DATA_DIR: dataDir,
      BULL_BOARD_USERNAME: CREDENTIALS.username,
      BULL_BOARD_PASSWORD: CREDENTIALS.password,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    receiver = await startReceiver((_req, res) => {
      res.statusCode = failing ? 500 : 200;
      res.end(failing ? 'receiver down' : 'thanks');
    });
    api = await startApiService(config, log, { db: database.db, port: 0, host: '127.0.0.1' });
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    const runtime = await createWebhookRuntime(config, { db: database.db, jobs: client, metrics: createMetricsRegistry('worker', { defaultMetrics: false }) });
    closeRuntime = runtime.close;
    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: log, services: { db: database.db, webhooks: runtime } });
    await worker.waitUntilReady();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await closeRuntime?.();
    await client?.close();
    await api?.close();
    await receiver?.close();
    await database?.close();
    await cleanupPrefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${api.port}`;
  const subscription = () => database.db.selectFrom('webhook_subscription').selectAll().executeTakeFirstOrThrow();
  const attempts = (subscriptionId: string) => database.db.selectFrom('webhook_event').selectAll().where('subscription_id', '=', subscriptionId).execute();
  const publish = async (resourceId: string) => {
    const res = await fetch(`${base()}/api/admin/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resource: 'invoice', action: 'paid', resourceId, data: { total: 42 } }),
    });
    expect(res.status).toBe(202);
  };
  const newPage = async (width = 1280): Promise<Page> => (await consoleContext(browser, { credentials: CREDENTIALS, width })).newPage();
  /** axe on the page as it is (no serious or critical violation), then its screenshot `test-results/console-<shot>.png`. */
  async function checked(page: Page, shot: string): Promise<void> {
    expect(await seriousA11yViolations(page), `axe on ${page.url()}`).toEqual([]);
    await screenshot(page, shot);
  }

  it('a failing receiver trips the breaker; fixed, re-enabled and replayed through the pages, every event is delivered', async () => {
    const page = await newPage();

    // Create through the form: first with a bad URL (the error sits beside the field), then right.
    await page.goto(`${base()}/console/webhooks/new`);
    await page.getByLabel('URL').fill('receiver.local/hook');
    await page.getByLabel('Events').fill('invoice.*');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    const urlField = page.getByLabel('URL');
    expect(await urlField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#field-url-error').textContent()).toContain('must be an absolute URL');
    await checked(page, 'webhooks-form-errors');
    expect(await database.db.selectFrom('webhook_subscription').selectAll().execute()).toEqual([]);

    await urlField.fill(`${receiver.origin}/hook/path-token`);
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.waitForURL(/\/console\/webhooks\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('status').textContent()).toContain('created');
    const sub = await subscription();
    expect(sub).toMatchObject({ url: `${receiver.origin}/hook/path-token`, events: ['invoice.*'], enabled: true });

    // Five failed deliveries in a row disable the subscription; one more event is then skipped.
    for (let i = 1; i <= 5; i++) await publish(`inv-${i}`);
    await sleepUntil(async () => !(await subscription()).enabled, { timeoutMs: 20_000, message: 'the breaker to disable the subscription' });
    await publish('inv-6');
    await sleepUntil(async () => (await attempts(sub.id)).some((a) => a.resource_id === 'inv-6' && a.error === 'skipped'), { message: 'inv-6 skipped' });

    await page.goto(`${base()}/console/webhooks`);
    const row = page.locator('tbody tr', { hasText: receiver.origin });
    await row.getByText('Disabled').waitFor();
    expect(await row.textContent()).toContain('5 consecutive failed attempts (last: http_5xx)');
    expect(await row.textContent()).not.toContain('path-token');
    expect(await row.textContent()).toMatch(/0 %\s*\(0 of \d+\)/);
    expect(await row.textContent()).toContain('http_5xx');
    await checked(page, 'webhooks-list');

    // The log: the failed attempts with their error code; the filters narrow it.
    await row.getByRole('link', { name: /Delivery log/ }).click();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    const rows = page.locator('tr.attempt');
    expect(await rows.count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('tr.attempt', { hasText: 'http_5xx' }).count()).toBeGreaterThanOrEqual(5);
    await checked(page, 'webhooks-log');

    await page.getByLabel('Outcome').selectOption('skipped');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/outcome=skipped/);
    const skippedRows = await rows.allTextContents();
    expect(skippedRows.length).toBeGreaterThanOrEqual(1);
    for (const text of skippedRows) expect(text).toContain('Skipped');
    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Error code').selectOption('http_5xx');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/error=http_5xx/);
    const failedRows = await rows.allTextContents();
    expect(failedRows.length).toBeGreaterThanOrEqual(5);
    for (const text of failedRows) expect(text).toMatch(/Failed[\s\S]*500[\s\S]*http_5xx/);

    // One attempt in full.
    await rows.first().getByRole('link', { name: /View attempt/ }).click();
    await page.getByRole('heading', { name: 'Request body' }).waitFor();
    expect(await page.locator('pre').first().textContent()).toContain('"type": "invoice.paid"');
    expect(await page.locator('pre').nth(1).textContent()).toBe('receiver down');
    await checked(page, 'webhooks-attempt');

    // Fix the receiver, enable, replay what was skipped (by keyboard).
    failing = false;
    await page.goto(`${base()}/console/webhooks/${sub.id}`);
    await page.getByRole('button', { name: 'Enable' }).click();
    expect(await page.getByRole('status').textContent()).toContain('enabled');
    expect((await subscription()).enabled).toBe(true);
    await checked(page, 'webhooks-subscription');
    await page.getByRole('button', { name: 'Replay skipped events' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText(/queued for delivery|No skipped events are waiting/).waitFor();
    const delivered = await sleepUntil(
      async () => {
        const rowsNow = await attempts(sub.id);
        const ok = new Set(rowsNow.filter((a) => a.success).map((a) => a.resource_id));
        return ['inv-1', 'inv-2', 'inv-3', 'inv-4', 'inv-5', 'inv-6'].every((id) => ok.has(id)) && ok;
      },
      { timeoutMs: 30_000, message: 'every event delivered after the replay' },
    );
    expect(delivered.size).toBe(6);

    await page.goto(`${base()}/console/webhooks/${sub.id}/deliveries?outcome=delivered`);
    const successRows = await rows.allTextContents();
    expect(successRows.length).toBeGreaterThanOrEqual(6);
    for (const text of successRows) expect(text).toMatch(/Delivered[\s\S]*200/);
    await screenshot(page, 'webhooks-log-delivered');

    // At 360 px: the pages still pass the check and do not scroll sideways as a whole.
    const narrow = await newPage(360);
    for (const [path, shot] of [
      ['/console/webhooks', 'webhooks-list-360'],
      [`/console/webhooks/${sub.id}/deliveries`, 'webhooks-log-360'],
    ] as const) {
      await narrow.goto(`${base()}${path}`);
      expect(await narrow.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
      await checked(narrow, shot);
    }
  }, 120_000);
});
