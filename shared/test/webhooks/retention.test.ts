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
    expect(done.result).toEqual({ deleted: 250, olderThanDays: 30 });
    const left = await database.db.selectFrom('webhook_event').select('webhook_id').orderBy('webhook_id').execute();
    expect(left.map((r) => r.webhook_id)).toEqual(['evt_1000', 'evt_1001', 'evt_1002']);
  });
});
