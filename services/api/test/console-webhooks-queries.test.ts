import { CompiledQuery, sql, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NewWebhookEvent } from '../../../shared/src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { deliveryLog, type LoggedEvent } from '../src/console/webhooks/delivery-log.js';
import { parseLogQuery } from '../src/console/webhooks/delivery-log-filter.js';
import { deliveryStats, deliveryStatsQuery } from '../src/console/webhooks/delivery-stats.js';

const NOW = Date.now();
const ago = (minutes: number) => new Date(NOW - minutes * 60_000);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());
beforeEach(async () => {
  await database.db.deleteFrom('webhook_subscription').execute(); // attempts go by cascade
});

const subscribe = async () =>
  (await database.db.insertInto('webhook_subscription').values({ url: 'https://example.com/hook', events: ['*'] }).returning('id').executeTakeFirstOrThrow()).id;

/** One attempt row with a known outcome and time. */
async function attempt(
  subscriptionId: string,
  at: Date,
  outcome: 'delivered' | 'skipped' | { error: string; status?: number },
  event: { webhookId?: string; type?: string } = {},
): Promise<string> {
  const webhookId = event.webhookId ?? `evt_${Math.random().toString(16).slice(2)}`;
  const [resource, action] = (event.type ?? 'cronJob.create').split('.') as [string, string];
  const row: NewWebhookEvent = {
    subscription_id: subscriptionId,
    webhook_id: webhookId,
    job_id: 'job-1',
    attempt: 1,
    action,
    resource,
    resource_id: 'r-1',
    request_body: { id: webhookId, type: `${resource}.${action}` },
    response_status: outcome === 'delivered' ? 200 : outcome === 'skipped' ? null : (outcome.status ?? null),
    response_body: outcome === 'delivered' ? 'ok' : null,
    error: outcome === 'delivered' ? null : outcome === 'skipped' ? 'skipped' : outcome.error,
    duration_ms: outcome === 'skipped' ? null : 7,
    success: outcome === 'delivered',
    created_at: at,
  };
  return (await database.db.insertInto('webhook_event').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

describe('deliveryStats: success rate over 24 h and last failure', () => {
  it('counts real attempts of the last 24 h (not skipped ones) and finds the newest real failure, however old', async () => {
    const busy = await subscribe();
    for (const minutes of [5, 15, 25]) await attempt(busy, ago(minutes), 'delivered');
    await attempt(busy, ago(60), { error: 'http_5xx', status: 503 });
    await attempt(busy, ago(2), 'skipped'); // newer than the failure, but not a failure
    await attempt(busy, ago(30 * 60), { error: 'timeout' }); // outside the window
    const healthy = await subscribe();
    await attempt(healthy, ago(1), 'delivered');
    const quiet = await subscribe();
    await attempt(quiet, ago(3 * 24 * 60), { error: 'refused' });
    const idle = await subscribe();

    const stats = await deliveryStats(database.db, [busy, healthy, quiet, idle, 'not-a-uuid'], new Date(NOW));
    expect(stats.get(busy)).toEqual({
      attempts: 4,
      delivered: 3,
      successRate: 0.75,
      lastFailure: { at: ago(60), error: 'http_5xx', responseStatus: 503 },
    });
    expect(stats.get(healthy)).toEqual({ attempts: 1, delivered: 1, successRate: 1, lastFailure: undefined });
    expect(stats.get(quiet)).toEqual({ attempts: 0, delivered: 0, successRate: null, lastFailure: { at: ago(3 * 24 * 60), error: 'refused', responseStatus: null } });
    expect(stats.get(idle)).toEqual({ attempts: 0, delivered: 0, successRate: null, lastFailure: undefined });
    expect(stats.get('not-a-uuid')).toEqual({ attempts: 0, delivered: 0, successRate: null, lastFailure: undefined });
  });

  it('reads a whole page of subscriptions in one query', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = await subscribe();
      await attempt(id, ago(i + 1), i % 2 ? 'delivered' : { error: 'dns' });
      ids.push(id);
    }
    let queries = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        queries++;
        return args.result;
      },
    };
    const stats = await deliveryStats(database.db.withPlugin(counting), ids, new Date(NOW));
    expect(queries).toBe(1);
    expect([...stats.values()].map((s) => s.successRate)).toEqual(ids.map((_, i) => (i % 2 ? 1 : 0)));
  });

  it('the last-failure lookup can use the partial failure index of migration 0005 (its predicate matches)', async () => {
    const id = await subscribe();
    await attempt(id, ago(1), { error: 'timeout' });
    const compiled = deliveryStatsQuery([id], ago(24 * 60)).compile(database.db);
    const plan = await database.db.transaction().execute(async (trx) => {
      // A few rows would be read without an index anyway: ask whether the index applies at all.
      await sql`set local enable_seqscan = off`.execute(trx);
      const { rows } = await trx.executeQuery(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
      return rows.map((r) => Object.values(r as Record<string, string>)[0]).join('\n');
    });
    expect(plan).toContain('webhook_event_failure_idx');
  });
});

describe('deliveryLog: newest first, attempts of an event together, filters, keyset pages', () => {
  let sub: string;
  const ids = (events: LoggedEvent[]) => events.map((e) => e.webhookId);
  const errorsOf = (event: LoggedEvent | undefined) => event?.attempts.map((a) => a.error);

  beforeEach(async () => {
    sub = await subscribe();
    // evt_a: failed twice, then delivered
    await attempt(sub, ago(50), { error: 'http_5xx', status: 500 }, { webhookId: 'evt_a' });
    await attempt(sub, ago(40), { error: 'timeout' }, { webhookId: 'evt_a' });
    await attempt(sub, ago(30), 'delivered', { webhookId: 'evt_a' });
    // evt_b: skipped while disabled, then replayed
    await attempt(sub, ago(20), 'skipped', { webhookId: 'evt_b', type: 'cronJob.update' });
    await attempt(sub, ago(10), 'delivered', { webhookId: 'evt_b', type: 'cronJob.update' });
    // evt_c: another resource, failed
    await attempt(sub, ago(5), { error: 'refused' }, { webhookId: 'evt_c', type: 'invoice.paid' });
    // evt_d: old
    await attempt(sub, ago(2 * 24 * 60), 'delivered', { webhookId: 'evt_d', type: 'cronJob.delete' });
    // another subscription's attempt of the same event never shows
    await attempt(await subscribe(), ago(1), { error: 'dns' }, { webhookId: 'evt_a' });
  });

  it('lists events by their newest attempt, each with all its attempts newest first, over keyset pages', async () => {
    const first = await deliveryLog(database.db, sub, {}, { limit: 2 });
    expect(ids(first.events)).toEqual(['evt_c', 'evt_b']);
    expect(errorsOf(first.events[1])).toEqual([null, 'skipped']);
    expect(first.events[1]).toMatchObject({ resource: 'cronJob', action: 'update', resourceId: 'r-1' });
    expect(first.next).toBeDefined();
    const second = await deliveryLog(database.db, sub, {}, { limit: 2, after: first.next! });
    expect(ids(second.events)).toEqual(['evt_a', 'evt_d']);
    expect(errorsOf(second.events[0])).toEqual([null, 'timeout', 'http_5xx']);
    expect(second.events[0]!.attempts.map((a) => a.created_at)).toEqual([ago(30), ago(40), ago(50)]);
    expect(second.next).toBeUndefined();
  });

  it('an event that gets a new attempt while paging moves before the first page instead of showing twice', async () => {
    const first = await deliveryLog(database.db, sub, {}, { limit: 1 });
    expect(ids(first.events)).toEqual(['evt_c']);
    await attempt(sub, new Date(NOW), 'delivered', { webhookId: 'evt_b', type: 'cronJob.update' });
    const rest: string[] = [];
    let after = first.next;
    while (after) {
      const page = await deliveryLog(database.db, sub, {}, { limit: 1, after });
      rest.push(...ids(page.events));
      after = page.next;
    }
    expect(rest).toEqual(['evt_a', 'evt_d']);
    expect(ids((await deliveryLog(database.db, sub, {}, { limit: 10 })).events)).toEqual(['evt_b', 'evt_c', 'evt_a', 'evt_d']);
  });

  it('filters by outcome, error code, event type and event, showing only the matching attempts', async () => {
    const log = async (query: Record<string, string>) => {
      const parsed = parseLogQuery(query);
      expect(parsed.errors).toEqual({});
      return (await deliveryLog(database.db, sub, parsed.filter, { limit: 10 })).events;
    };
    const failed = await log({ outcome: 'failed' });
    expect(ids(failed)).toEqual(['evt_c', 'evt_a']);
    expect(errorsOf(failed[1])).toEqual(['timeout', 'http_5xx']);
    expect(ids(await log({ outcome: 'delivered' }))).toEqual(['evt_b', 'evt_a', 'evt_d']);
    const skipped = await log({ outcome: 'skipped' });
    expect(ids(skipped)).toEqual(['evt_b']);
    expect(errorsOf(skipped[0])).toEqual(['skipped']);
    expect(ids(await log({ error: 'timeout' }))).toEqual(['evt_a']);
    expect(ids(await log({ type: 'cronJob.*' }))).toEqual(['evt_b', 'evt_a', 'evt_d']);
    expect(ids(await log({ type: 'invoice.paid' }))).toEqual(['evt_c']);
    expect(ids(await log({ type: 'cronJob.update', outcome: 'delivered' }))).toEqual(['evt_b']);
    expect(ids(await log({ type: '*' }))).toEqual(['evt_c', 'evt_b', 'evt_a', 'evt_d']);
    expect((await log({ event: 'evt_a' }))[0]!.attempts).toHaveLength(3);
    expect(await log({ error: 'dns' })).toEqual([]); // only the other subscription has one
  });
});

describe('parseLogQuery: a bad filter is named by field', () => {
  it('reports each unknown value under its own field and keeps what was typed', () => {
    const parsed = parseLogQuery({ outcome: 'maybe', error: 'http_6xx', type: 'cron job', event: 'evt a', cursor: 'garbage!' });
    expect(Object.keys(parsed.errors).sort()).toEqual(['cursor', 'error', 'event', 'outcome', 'type']);
    expect(parsed.filter).toEqual({});
    expect(parsed.values).toEqual({ outcome: 'maybe', error: 'http_6xx', type: 'cron job', event: 'evt a' });
  });

  it('reads good values', () => {
    expect(parseLogQuery({ outcome: 'skipped', error: 'blocked_address', type: 'invoice.paid', event: 'evt_1' })).toMatchObject({
      filter: { outcome: 'skipped', error: 'blocked_address', resource: 'invoice', action: 'paid', webhookId: 'evt_1' },
      errors: {},
    });
  });
});
