import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, type JobClient } from '../../src/index.js';
import { recordWebhookEvent, startOutboxRelay, type OutboxRelayLoop } from '../../src/webhooks/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';

describe("the scheduler's outbox relay pass", () => {
  let database: TestDatabase;
  let prefix: string;
  let client: JobClient<typeof jobHandlers>;
  let loop: OutboxRelayLoop | undefined;
  beforeEach(async () => {
    database = await createTestDatabase();
    prefix = testPrefix('relay');
    client = createJobClient({ handlers: jobHandlers, redisUrl: TEST_REDIS_URL, prefix });
  });
  afterEach(async () => {
    await loop?.close();
    await client.close();
    await database.close();
    await cleanupPrefix(prefix);
  });

  it('relays rows nobody relayed (e.g. the API crashed after commit) on its own, once', async () => {
    const sub = await database.db.insertInto('webhook_subscription').values({ url: 'http://example.test/', events: ['cronJob.*'] }).returning('id').executeTakeFirstOrThrow();
    const { outboxId, webhookId } = await recordWebhookEvent(database.db, { resource: 'cronJob', action: 'update', resourceId: 'c1', data: {} });
    loop = startOutboxRelay({ db: database.db, enqueue: (p, o) => client.enqueueJob('sendWebhook', p, o), log: captureLogger().log, intervalMs: 100 });
    const job = await sleepUntil(() => client.getJob(`wh-${outboxId}-${sub.id}`), { message: 'delivery job enqueued' });
    expect(job).toMatchObject({ handler: 'sendWebhook', payload: { subscriptionId: sub.id, resource: 'cronJob', action: 'update', webhookId } });
    await loop.runOnce();
    expect(await client.queue.count()).toBe(1);
  });

  it('while the queue is down it keeps the rows, logs the outage once, and catches up later', async () => {
    const { log, lines } = captureLogger();
    await database.db.insertInto('webhook_subscription').values({ url: 'http://example.test/', events: ['*'] }).execute();
    await recordWebhookEvent(database.db, { resource: 'thing', action: 'create', resourceId: 't1', data: {} });
    let down = true;
    loop = startOutboxRelay({
      db: database.db,
      enqueue: (p, o) => (down ? Promise.reject(new Error('the job queue (Redis) is unavailable')) : client.enqueueJob('sendWebhook', p, o)),
      log,
      intervalMs: 50,
    });
    await sleepUntil(() => lines.filter((l) => l.msg.startsWith('outbox relay failed')).length === 1);
    await loop.runOnce();
    await loop.runOnce();
    expect(lines.filter((l) => l.msg.startsWith('outbox relay failed'))).toHaveLength(1);
    down = false;
    await sleepUntil(async () => (await client.queue.count()) === 1, { message: 'relayed after recovery' });
    const pending = await database.db.selectFrom('webhook_outbox').select('id').where('relayed_at', 'is', null).execute();
    expect(pending).toHaveLength(0);
  });

  it('a row whose data can never be enqueued is dropped and reported, and does not stall the rows behind it', async () => {
    const { log, lines } = captureLogger();
    const sub = await database.db.insertInto('webhook_subscription').values({ url: 'http://example.test/', events: ['*'] }).returning('id').executeTakeFirstOrThrow();
    // Written past the API's validation: a resource id longer than the payload schema allows.
    const { outboxId: bad } = await recordWebhookEvent(database.db, { resource: 'thing', action: 'create', resourceId: 'x'.repeat(500), data: {} });
    const { outboxId: good } = await recordWebhookEvent(database.db, { resource: 'thing', action: 'create', resourceId: 'ok', data: {} });
    loop = startOutboxRelay({ db: database.db, enqueue: (p, o) => client.enqueueJob('sendWebhook', p, o), log, intervalMs: 50 });
    await sleepUntil(() => client.getJob(`wh-${good}-${sub.id}`), { message: 'the good row relayed' });
    // Reported once the pass ends, just after the good row's job was enqueued.
    const reported = await sleepUntil(() => lines.find((l) => l.msg.startsWith('outbox row cannot be delivered')), { message: 'bad row reported' });
    expect(reported).toMatchObject({ outboxId: bad, subscriptionId: sub.id });
    expect(await client.getJob(`wh-${bad}-${sub.id}`)).toBeUndefined();
  });
});
