import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobClient, jobHandlers, type JobClient } from '../../shared/src/index.js';
import { deliveryJobId } from '../../shared/src/webhooks/index.js';
import { sleepUntil } from '../helpers/index.js';
import { PrivatePostgres } from './lib/private-postgres.js';
import { startSystem, type System } from './lib/system.js';

// Scenario: Postgres crashes in the middle of a run (`pg_ctl stop -m immediate` on a private
// cluster, the shared test Postgres is left alone) and starts again on the same port.
// - While it is down, cron CRUD answers 503 problem+json quickly (not 500, no hang), /readyz names
//   `db`, /healthz stays 200; after the restart CRUD works again with no service restarted.
// - Webhook deliveries in flight (the receiver holds them until the server is down, then answers
//   after 500 ms) or queued when it dies cannot write their attempt row or load their
//   subscription: they fail and BullMQ retries them (2 s exponential backoff), so after the
//   restart every event has reached the receiver and has exactly one success attempt row.
// - The outbox relays what was left: a row committed but never relayed (its relay was cut by the
//   crash) is relayed by the scheduler's pass after the restart and delivered once; a row whose
//   relay enqueued the job but never committed `relayed_at` is relayed again, which adds no second
//   job (the job id comes from row and subscription): delivered once too.

const EVENTS = 40; // 2 workers × concurrency 10 in flight, the rest queued
const RECEIVER_DELAY_MS = 500;
const OUTAGE_MS = 5_000;

interface Hit {
  webhookId: string;
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1 that answers 200 after `delayMs`, recording each request.
 * `hold()` keeps every request that arrives from then on waiting (at least `delayMs`) until
 * `release()`, so a test can be sure deliveries are in flight at a given moment.
 */
async function startReceiver(delayMs: number) {
  const hits: Hit[] = [];
  let pending = 0;
  let gate: Promise<void> | undefined;
  let open = () => {};
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      hits.push({ webhookId: String(req.headers['x-webhook-id'] ?? ''), at: Date.now() });
      pending++;
      const delay = new Promise((resolve) => setTimeout(resolve, delayMs));
      void Promise.all([delay, gate]).then(() => {
        pending--;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    pending: () => pending,
    hold: () => void (gate = new Promise<void>((resolve) => (open = resolve))),
    release: () => {
      open();
      gate = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        open();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Sent {
  what: string;
  at: number;
  ms: number;
  status: number | string;
  contentType?: string | null;
  retryAfter?: string | null;
}

describe('system: Postgres restarted mid-run', () => {
  let postgres: PrivatePostgres;
  let system: System;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let holder: pg.Client | undefined;
  let producer: Redis | undefined;
  let jobs: JobClient<typeof jobHandlers> | undefined;
  const t0 = Date.now();

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    await postgres.createDatabase('test');
    receiver = await startReceiver(RECEIVER_DELAY_MS);
    // Staging refuses loopback receivers (SSRF guard) unless told otherwise.
    system = await startSystem({ databaseUrl: postgres.url('test'), workers: 2, schedulers: 2, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await holder?.end().catch(() => undefined);
    await jobs?.close().catch(() => undefined);
    producer?.disconnect();
    await receiver?.close();
    await system?.stop();
    await postgres?.destroy();
    console.log(`[postgres-restart] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  it('503 while down, CRUD recovers, no webhook lost, the outbox left-overs relayed once', { timeout: 150_000 }, async () => {
    const { db } = system.database;
    const started = Date.now();
    const sent: Sent[] = [];
    const call = async (what: string, method: string, path: string, body?: unknown): Promise<Response | undefined> => {
      const at = Date.now();
      try {
        const res = await system.call(method, path, body, { timeoutMs: 15_000 });
        sent.push({ what, at: at - started, ms: Date.now() - at, status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after') });
        return res;
      } catch (err) {
        sent.push({ what, at: at - started, ms: Date.now() - at, status: `error ${(err as Error).name}` });
        return undefined;
      }
    };
    const createCron = (name: string) => call('cron POST', 'POST', '/api/admin/cronJob', { name, pattern: '0 0 1 1 *', handler: 'echo', payload: { message: name } });

    // The subscription is written in SQL: staging only accepts https URLs through the API.
    const subscription = await db
      .insertInto('webhook_subscription')
      .values({ url: receiver.url, events: ['invoice.*'], description: 'postgres-restart receiver' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const before = await createCron('before the outage');
    expect(before?.status, system.dump()).toBe(201);

    // Two outbox rows "left" by the crash. They are committed as relayed, locked FOR KEY SHARE by a
    // transaction that dies with the server, then marked pending (a non-key update keeps that
    // lock): until the crash every relay's FOR UPDATE SKIP LOCKED passes them over, so they are
    // certainly pending, and unlocked, when the server comes back. (Inserting them pending and
    // locking them afterwards would race the schedulers' relay, which runs every second.)
    // A: committed, its relay cut before it enqueued anything.
    // B: committed, its relay enqueued the job (below, while the server is down) but never
    //    committed `relayed_at`, so the scheduler relays it again: the job id must make that a no-op.
    const left = await db
      .insertInto('webhook_outbox')
      .values(['A', 'B'].map((name) => ({ resource: 'invoice', action: 'left', resource_id: `left-${name}`, data: { name }, relayed_at: new Date() })))
      .returning(['id', 'resource', 'action', 'resource_id', 'data', 'occurred_at', 'webhook_id'])
      .execute();
    const [rowA, rowB] = left as [(typeof left)[number], (typeof left)[number]];
    holder = new pg.Client({ connectionString: postgres.url('test'), options: `-c search_path=${system.database.schema}` });
    holder.on('error', () => {}); // its connection is cut by the crash
    await holder.connect();
    await holder.query('begin');
    await holder.query('select id from webhook_outbox where id = any($1::bigint[]) for key share', [[rowA.id, rowB.id]]);
    await db.updateTable('webhook_outbox').set({ relayed_at: null }).where('id', 'in', [rowA.id, rowB.id]).execute();

    // Events published through the API (relayed right after commit). The receiver holds the first
    // wave until Postgres is down: those deliveries are certainly in flight at the crash.
    receiver.hold();
    const published = await Promise.all(
      Array.from({ length: EVENTS }, async (_, i) => {
        const res = await system.call('POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: `inv_${i}`, data: { i } });
        expect(res.status, await res.clone().text()).toBe(202);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    await sleepUntil(() => receiver.pending() >= 5, { timeoutMs: 15_000, intervalMs: 5, message: 'deliveries in flight at the receiver' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the other worker's deliveries arrive too

    // --- Postgres dies, with deliveries in flight and queued.
    const stopAt = Date.now() - started;
    await postgres.stop();
    const stoppedAt = Date.now() - started;
    const inFlightAtStop = receiver.pending();
    const hitsAtStop = receiver.hits.length;
    // They are answered now, but their attempt rows cannot be written: the jobs are put back (no attempt spent).
    receiver.release();
    // B's relay got as far as the queue (the server died before its commit).
    producer = new Redis(system.redisUrl, { maxRetriesPerRequest: null });
    producer.on('error', () => {});
    jobs = createJobClient({ handlers: jobHandlers, connection: producer, prefix: system.prefix, queueName: system.queueName });
    const jobIdB = await jobs.enqueueJob(
      'sendWebhook',
      {
        subscriptionId: subscription.id,
        action: rowB.action,
        resource: rowB.resource,
        resourceId: rowB.resource_id,
        data: rowB.data,
        webhookId: rowB.webhook_id,
        occurredAt: new Date(rowB.occurred_at).toISOString(),
      },
      { jobId: deliveryJobId(rowB.id, subscription.id) },
    );

    // While it is down: CRUD answers 503 problem+json, fast; so does a publish (nothing accepted that is not stored).
    const publishWhileDown = await call('event POST', 'POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: 'inv_down', data: {} });
    const readyWhileDown = await system.call('GET', '/readyz', undefined, { timeoutMs: 10_000 });
    const readyBody = (await readyWhileDown.json()) as { down?: string[] };
    const healthWhileDown = await system.call('GET', '/healthz', undefined, { timeoutMs: 10_000 });
    const otherReadyWhileDown = await Promise.all(
      [...system.workers, ...system.schedulers].map(async (s) => {
        const res = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
          throw new Error(`${s.name} /readyz while Postgres is down: ${err.message}\n${system.dump()}`);
        });
        return `${s.name}:${res.status}:${((await res.json()) as { down?: string[] }).down?.join(',') ?? ''}`;
      }),
    );
    while (Date.now() - started < stopAt + OUTAGE_MS) {
      await createCron('during the outage');
      await call('cron GET', 'GET', '/api/admin/cronJob');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const during = sent.filter((s) => s.at >= stoppedAt);

    // --- Postgres is back (crash recovery, same port); no service is restarted.
    const restartAt = Date.now() - started;
    await postgres.start();
    const restartedAt = Date.now() - started;
    // Reads first: until the left-overs are relayed, no API mutation is made (each relays the
    // outbox after its commit), so the scheduler's relay pass is the one that must pick them up.
    await sleepUntil(async () => (await call('cron GET', 'GET', '/api/admin/cronJob'))?.status === 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
      message: 'cron GET 200 after the restart',
    });
    const firstReadAfterMs = Date.now() - started - restartedAt;
    await sleepUntil(
      async () => (await db.selectFrom('webhook_outbox').select('id').where('id', 'in', [rowA.id, rowB.id]).where('relayed_at', 'is not', null).execute()).length === 2,
      { timeoutMs: 15_000, intervalMs: 100, message: "the scheduler's relay pass takes the outbox left-overs" },
    );
    const leftRelayedAfterMs = Date.now() - started - restartedAt;
    const after = await createCron('after the outage');
    expect(after?.status, `cron POST after the restart\n${system.api.output().slice(-3_000)}`).toBe(201);
    const firstCreatedAfterMs = Date.now() - started - restartedAt;
    const { jobId: cronSchedulerId } = (await after!.json()) as { jobId: string };
    const list = await call('cron GET', 'GET', '/api/admin/cronJob');
    expect(list?.status).toBe(200);
    const publishedAfter = await system.call('POST', '/api/admin/event', { resource: 'invoice', action: 'paid', resourceId: 'inv_after', data: {} });
    expect(publishedAfter.status).toBe(202);
    const idAfter = ((await publishedAfter.json()) as { id: string }).id;

    // Every event reaches the receiver and gets one success attempt row.
    const expected = [...published, idAfter, rowA.webhook_id, rowB.webhook_id];
    const successRows = () =>
      db.selectFrom('webhook_event').select(['webhook_id', 'job_id', 'attempt', 'created_at']).where('subscription_id', '=', subscription.id).where('success', '=', true).execute();
    let rows: Awaited<ReturnType<typeof successRows>> = [];
    await sleepUntil(async () => new Set((rows = await successRows()).map((r) => r.webhook_id)).size >= expected.length, {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: 'a success attempt row for every event',
    }).catch(() => undefined);
    const deliveredAt = Date.now() - started;
    const hitsOf = (id: string) => receiver.hits.filter((h) => h.webhookId === id).length;
    const successOf = (id: string) => rows.filter((r) => r.webhook_id === id);
    const redelivered = published.filter((id) => hitsOf(id) > 1);
    // Deliveries that met the outage were put back without spending an attempt (DependencyUnavailableError).
    const putBack = (system.dump().match(/dependency unavailable: job put back, no attempt spent/g) ?? []).length;
    const spentAttempts = rows.filter((r) => r.attempt > 1).length;
    const outbox = await db.selectFrom('webhook_outbox').select(['id', 'relayed_at']).execute();
    const allRows = await db.selectFrom('webhook_event').select(['webhook_id', 'success', 'error']).where('subscription_id', '=', subscription.id).execute();
    const sub = await db.selectFrom('webhook_subscription').selectAll().where('id', '=', subscription.id).executeTakeFirstOrThrow();
    const byStatus: Record<string, number> = {};
    for (const s of during) byStatus[`${s.what} ${s.status}`] = (byStatus[`${s.what} ${s.status}`] ?? 0) + 1;
    const afterRestart = sent.filter((s) => s.at >= restartAt);
    const report = {
      stopAt,
      postgresDownAfterMs: stoppedAt - stopAt,
      inFlightAtStop,
      hitsAtStop,
      whileDown: byStatus,
      maxLatencyWhileDownMs: Math.max(0, ...during.map((s) => s.ms)),
      readyzWhileDown: `${readyWhileDown.status} ${JSON.stringify(readyBody)}`,
      otherReadyWhileDown,
      postgresBackAfterMs: restartedAt - restartAt,
      firstCronReadAfterRestartMs: firstReadAfterMs,
      leftOversRelayedAfterRestartMs: leftRelayedAfterMs,
      cronCreatedAfterRestartMs: firstCreatedAfterMs,
      statusesAfterRestart: afterRestart.map((s) => `${s.what} ${s.status}`),
      allDeliveredAfterRestartMs: deliveredAt - restartedAt,
      receiverHits: receiver.hits.length,
      eventsRedelivered: redelivered.length,
      deliveriesPutBack: putBack,
      failedAttemptRows: allRows.filter((r) => !r.success).length,
    };
    console.log(`[postgres-restart] ${JSON.stringify(report)}`);

    // (1) 503 while down, fast, as a problem document; readiness names the database; liveness holds.
    expect(during.length, 'requests made while Postgres was down').toBeGreaterThan(10);
    expect(
      during.filter((s) => s.status !== 503),
      `while down: 503 only\n${system.api.output().slice(-3_000)}`,
    ).toEqual([]);
    expect(during.every((s) => s.contentType?.startsWith('application/problem+json') && s.retryAfter)).toBe(true);
    expect(report.maxLatencyWhileDownMs, '503 comes fast, no hang').toBeLessThan(4_000);
    expect(publishWhileDown?.status).toBe(503);
    expect(readyWhileDown.status).toBe(503);
    expect(readyBody.down).toEqual(['db']);
    expect(healthWhileDown.status, 'liveness does not depend on Postgres').toBe(200);
    expect(otherReadyWhileDown.every((s) => s.endsWith(':503:db')), otherReadyWhileDown.join(' ')).toBe(true);
    // ... and recovers without a restart: no 500 on the way.
    expect(afterRestart.filter((s) => s.status !== 201 && s.status !== 200 && s.status !== 503), JSON.stringify(afterRestart)).toEqual([]);
    expect(firstReadAfterMs, 'cron CRUD works again soon after the restart').toBeLessThan(10_000);
    // The scheduler reads the new row from the database again: it becomes a job scheduler.
    await sleepUntil(async () => (await system.queue.getJobSchedulers()).some((s) => s.key === cronSchedulerId), {
      timeoutMs: 20_000,
      message: 'the cron row created after the restart as a job scheduler',
    });

    // (2) No webhook lost: every event reached the receiver and has exactly one success row
    // (one job per event and subscription); the ones cut in flight were delivered again.
    const missing = expected.filter((id) => hitsOf(id) === 0 || successOf(id).length !== 1);
    const missingStates = await Promise.all(
      missing.slice(0, 10).map(async (id) => {
        const ids = [...new Set(successOf(id).map((r) => r.job_id))];
        return `${id}: hits ${hitsOf(id)}, success rows ${successOf(id).length} (${ids.join(',')})`;
      }),
    );
    expect(missing, `events not delivered exactly once with a success row:\n${missingStates.join('\n')}\n${system.dump()}`).toEqual([]);
    expect(inFlightAtStop, 'deliveries in flight at the crash').toBeGreaterThan(0);
    expect(redelivered.length, 'deliveries cut in flight by the crash were retried and delivered again').toBeGreaterThanOrEqual(inFlightAtStop);
    expect(putBack, 'deliveries put back while the database was down').toBeGreaterThan(0);
    expect(spentAttempts, 'the outage spent no delivery attempt').toBe(0);
    expect({ enabled: sub.enabled, consecutiveFailures: sub.consecutive_failures }, 'the outage does not count against the receiver').toEqual({ enabled: true, consecutiveFailures: 0 });

    // (3) The outbox left-overs: relayed by the scheduler after the restart, delivered exactly once.
    const [successA] = successOf(rowA.webhook_id);
    const [successB] = successOf(rowB.webhook_id);
    expect(hitsOf(rowA.webhook_id), 'A delivered once').toBe(1);
    expect(hitsOf(rowB.webhook_id), 'B delivered once: the repeated relay added no job').toBe(1);
    expect(successA!.job_id).toBe(deliveryJobId(rowA.id, subscription.id));
    expect(successA!.attempt, 'A was first enqueued after the restart').toBe(1);
    expect(successB!.job_id).toBe(jobIdB);
    expect(successB!.attempt, 'B ran while Postgres was down and was put back, spending no attempt').toBe(1);
    expect((await system.queue.getJob(jobIdB))!.attemptsStarted, 'B ran more than once').toBeGreaterThan(1);
    expect(outbox.filter((r) => r.relayed_at === null).map((r) => r.id), 'nothing left in the outbox').toEqual([]);
    const sendJobs = (await system.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'])).filter((j) => j.id?.startsWith('wh-'));
    expect(sendJobs.filter((j) => j.id!.includes(`wh-${rowB.id}-`)).length, 'one job for B').toBe(1);
    const counts = await system.queue.getJobCounts('failed', 'active', 'waiting');
    expect(counts).toEqual({ failed: 0, active: 0, waiting: 0 });

    // Nothing crashed; every service is ready again.
    for (const s of system.all()) {
      expect(s.running, `${s.name} still running\n${s.output().slice(-2_000)}`).toBe(true);
      await sleepUntil(async () => (await fetch(`${s.url}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 15_000, message: `${s.name} ready again` });
    }
  });
});
