import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, jobHandlers, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';

describe('webhookEventRetention', () => {
  let database: TestDatabase;
  let prefix: string;
  let client: JobClient<typeof jobHandlers>;
  let worker: JobWorker;
  beforeEach(async () => {
    database = await createTestDatabase();
    prefix = testPrefix('ret');
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
    worker = createWorker({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('warn').log, services: { db: database.db } });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await database.close();
    await cleanupPrefix(prefix);
  });

  it('deletes attempt rows older than the retention, in batches, and keeps the recent ones', async () => {
    const sub = await database.db.insertInto('webhook_subscription').values({ url: 'https://example.test/', events: ['*'] }).returning('id').executeTakeFirstOrThrow();
    const row = (i: number, daysAgo: number) => ({
      subscription_id: sub.id,
      webhook_id: `evt_${i}`,
      attempt: 1,
      action: 'create',
      resource: 'cronJob',
      resource_id: String(i),
      request_body: {},
      success: true,
      created_at: sql<Date>`now() - make_interval(days => ${daysAgo})`,
    });
    // 250 old rows (more than two batches of 100) and 3 recent ones.
    await database.db.insertInto('webhook_event').values(Array.from({ length: 250 }, (_, i) => row(i, 40))).execute();
    await database.db.insertInto('webhook_event').values([row(1000, 1), row(1001, 29), row(1002, 0)]).execute();

    const id = await client.enqueueJob('webhookEventRetention', { olderThanDays: 30, batchSize: 100 });
    const done = await sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'completed' && job;
    });
    expect(done.result).toEqual({ deleted: 250, olderThanDays: 30, outboxDeleted: 0 });
    const left = await database.db.selectFrom('webhook_event').select('webhook_id').orderBy('webhook_id').execute();
    expect(left.map((r) => r.webhook_id)).toEqual(['evt_1000', 'evt_1001', 'evt_1002']);
  });

  it('deletes outbox rows relayed more than a day ago, in batches, and keeps pending and recently relayed ones', async () => {
    const outbox = (resourceId: string, relayedHoursAgo: number | null, writtenHoursAgo = 0) => ({
      resource: 'invoice',
      action: 'paid',
      resource_id: resourceId,
      data: {},
      occurred_at: sql<Date>`now() - make_interval(hours => ${writtenHoursAgo})`,
      relayed_at: relayedHoursAgo === null ? null : sql<Date>`now() - make_interval(hours => ${relayedHoursAgo})`,
    });
    // 230 rows relayed two days ago (more than two batches of 100) go; these stay: relayed an
    // hour ago, relayed 23 h ago, and one never relayed although written three days ago.
    await database.db.insertInto('webhook_outbox').values(Array.from({ length: 230 }, (_, i) => outbox(`old-${i}`, 48, 49))).execute();
    await database.db.insertInto('webhook_outbox').values([outbox('recent', 1, 1), outbox('almost-a-day', 23, 30), outbox('pending', null, 72)]).execute();

    const id = await client.enqueueJob('webhookEventRetention', { batchSize: 100 });
    const done = await sleepUntil(async () => {
      const job = await client.getJob(id);
      return job?.state === 'completed' && job;
    });
    expect(done.result).toEqual({ deleted: 0, olderThanDays: 30, outboxDeleted: 230 });
    const left = await database.db.selectFrom('webhook_outbox').select('resource_id').orderBy('resource_id').execute();
    expect(left.map((r) => r.resource_id)).toEqual(['almost-a-day', 'pending', 'recent']);
  });
});
