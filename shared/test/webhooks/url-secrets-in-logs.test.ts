import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, jobHandlers, type JobClient, type JobWorker } from '../../src/index.js';
import { createWebhookHttpClient, createWebhookSecretBox, loadSigningKeys, noWebhookMetrics, recordWebhookEvent, relayOutbox, urlWithoutSecrets, type WebhookRuntime } from '../../src/webhooks/index.js';
import { loadConfig } from '../../src/config/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL, type CapturedLog } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { startReceiver, type Receiver } from './receiver.js';

const PATH_SECRET = 'PATHSECRET7f3a9c';
const QUERY_SECRET = 'QUERYSECRET51be02';
const USER_SECRET = 'USERSECRETc4d8';

describe('urlWithoutSecrets', () => {
  it.each([
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com'],
    ['https://discord.com/api/webhooks/123/tok-en?wait=true', 'https://discord.com'],
    ['https://webhook.site/9f1c2e7a-uuid-is-the-secret', 'https://webhook.site'],
    ['https://u:p@example.com:8443/in?token=abc#frag', 'https://example.com:8443'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000'],
    ['http://[::1]:9000/x', 'http://[::1]:9000'],
    ['not a url', '[invalid url]'],
  ])('%s → %s', (url, expected) => {
    expect(urlWithoutSecrets(url)).toBe(expected);
  });
});

/** A failing delivery to a URL with secrets in path, query and userinfo: the secrets stay out of every log. */
describe('subscription URL secrets never reach the logs', () => {
  let database: TestDatabase;
  let prefix: string;
  let dataDir: string;
  let receiver: Receiver;
  let client: JobClient<typeof jobHandlers>;
  let worker: JobWorker | undefined;
  let lines: CapturedLog[];

  beforeEach(async () => {
    database = await createTestDatabase();
    prefix = testPrefix('whlog');
    dataDir = await mkdtemp(join(tmpdir(), 'wh-keys-'));
    // Every attempt fails with a 500; a bystander subscription receives the breaker's event.
    receiver = await startReceiver((req, res) => {
      res.statusCode = req.path.includes(PATH_SECRET) ? 500 : 200;
      res.end(`no (${req.path})`);
    });
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    const keys = (await loadSigningKeys(loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir }))).all;
    const webhooks: WebhookRuntime = {
      signingKeys: keys,
      secretBox: createWebhookSecretBox(randomBytes(32)),
      http: createWebhookHttpClient({ timeoutMs: 2_000, allowPrivateNetworks: true }),
      failureThreshold: 1, // the first failure trips the breaker, whose log line names the URL
      eventRetentionDays: 30,
      metrics: noWebhookMetrics,
      relay: () => relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, o)),
    };
    const captured = captureLogger('trace');
    lines = captured.lines;
    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captured.log, services: { db: database.db, webhooks } });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker?.close();
    await client?.close();
    await receiver?.close();
    await database.close();
    await cleanupPrefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['a receiver answering 500', () => `http://${USER_SECRET}:pw@127.0.0.1:${receiver.port}/services/T000/B000/${PATH_SECRET}?token=${QUERY_SECRET}#${QUERY_SECRET}`],
    ['a refused connection', () => `http://127.0.0.1:1/api/webhooks/123/${PATH_SECRET}?token=${QUERY_SECRET}`],
  ])('%s: not in the service log, the job log (BullBoard), the failedReason, nor the event other subscribers get', async (_name, urlOf) => {
    const url = urlOf();
    const sub = (await database.db.insertInto('webhook_subscription').values({ url, events: ['cronJob.*'] }).returning('id').executeTakeFirstOrThrow()).id;
    const bystander = (await database.db.insertInto('webhook_subscription').values({ url: `${receiver.origin}/bystander`, events: ['webhookSubscription.*'] }).returning('id').executeTakeFirstOrThrow()).id;
    await recordWebhookEvent(database.db, { resource: 'cronJob', action: 'create', resourceId: 'c1', data: {} });
    await relayOutbox(database.db, (p, o) => client.enqueueJob('sendWebhook', p, { ...o, attempts: 1 }));
    const failed = await sleepUntil(async () => {
      const jobs = await client.queue.getJobs(['failed']);
      return jobs.find((j) => (j.data as { payload?: { subscriptionId?: string } }).payload?.subscriptionId === sub);
    }, { message: 'the delivery job failed' });
    // The breaker's event reached the bystander: the disabled subscription's URL it names is cut too.
    const disabledEvent = await sleepUntil(() => receiver.requests.find((r) => r.path === '/bystander'), { message: 'breaker event delivered' });
    expect(JSON.parse(disabledEvent.body)).toMatchObject({ type: 'webhookSubscription.disabled', data: { id: sub, url: urlWithoutSecrets(url) } });
    await sleepUntil(async () => (await database.db.selectFrom('webhook_event').select('id').where('subscription_id', '=', bystander).execute()).length > 0);

    const breakerLine = lines.find((l) => l.msg === 'circuit breaker: subscription disabled');
    expect(breakerLine, 'the breaker logged, naming the URL without its secrets').toMatchObject({ subscriptionId: sub, url: urlWithoutSecrets(url) });
    const { logs } = await client.queue.getJobLogs(failed.id!);
    expect(logs.join('\n')).toContain('circuit breaker: subscription disabled');
    const everything = [JSON.stringify(lines), logs.join('\n'), failed.failedReason, JSON.stringify(failed.stacktrace)].join('\n');
    for (const secret of [PATH_SECRET, QUERY_SECRET, USER_SECRET]) expect(everything).not.toContain(secret);
  });
});
