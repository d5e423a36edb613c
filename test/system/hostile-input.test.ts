import { request as httpRequest, Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool } from './lib/load.js';
import { startSystem, type System } from './lib/system.js';

// Scenario: a few thousand random and hostile requests over real HTTP against the running API
// process, on every route its OpenAPI document lists (plus health, metrics, BullBoard): huge and
// deep bodies, wrong types, unicode, SQL-ish strings, path traversal in ids, bad tokens. No 5xx,
// and the process stays up and healthy.

/** Handlers only the system enqueues (SPEC §14): the API answers 400 for them. */
const INTERNAL = new Set(['sendWebhook', 'webhookEventRetention']);
const REQUESTS = Number(process.env.SYSTEM_FUZZ_REQUESTS ?? 3_000);
const SEED = Number(process.env.SYSTEM_FUZZ_SEED ?? 20_240_601);

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}
interface Outcome {
  req: Req;
  t0?: number;
  t1?: number;
  status: number | string;
  body: string;
}

const hostileIds = [
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '..%00',
  '%00',
  '%ff%fe',
  "1' OR '1'='1",
  "1; DROP TABLE cron_job; --",
  '-1',
  '0',
  '1e308',
  '99999999999999999999999999',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'repeat:x:1',
  '🦄'.repeat(40),
  'é',
  'a'.repeat(5_000),
  '*',
  '?x=1',
  '%',
  '%%32%65',
  '\u202e',
];

/** The path with `{…}` parameters filled; non-ASCII and reserved characters percent-encoded unless `raw`. */
function fill(template: string, id: string, raw: boolean): string {
  return template.replace(/\{[^}]+\}/g, () => (raw ? id.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)) : encodeURIComponent(id)));
}

/** Sends exactly these bytes (no URL normalisation of `..`, unlike fetch). */
function send(port: number, agent: Agent, req: Req): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number | string, body = '') => {
      if (!settled) resolve({ req, status, body });
      settled = true;
    };
    let r: ReturnType<typeof httpRequest>;
    try {
      r = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent, timeout: 20_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
        res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString().slice(0, 500)));
        res.on('error', (e) => done(`response error ${e.message}`));
      });
    } catch (err) {
      done(`client refused to send: ${(err as Error).message}`);
      return;
    }
    r.on('timeout', () => (r.destroy(), done('timeout')));
    // Whether the TCP connection was established: a reset before that is the kernel refusing the
    // handshake (a loopback port still in TIME_WAIT from an earlier connection), not the server.
    let connected = false;
    r.on('socket', (socket) => (socket.connecting ? socket.once('connect', () => (connected = true)) : (connected = true)));
    // The server may answer 413 and close before a huge body is fully written: EPIPE/ECONNRESET.
    r.on('error', (e: NodeJS.ErrnoException) => done(connected ? `error ${e.code ?? e.message}` : `connect ${e.code ?? e.message}`));
    r.end(req.body);
  });
}

/**
 * A connection cut without an answer the client could read is expected only for large bodies the
 * server does not want: over 1 MiB it answers 413 and closes; on a route that reads no body (or
 * after a 401/405), @hono/node-server answers, drains for 500 ms, then destroys the socket while
 * this client is still writing (ECONNRESET); and for a header block over Node's 16 KiB (431).
 */
function expectedCut(o: Outcome): boolean {
  return (o.req.body?.length ?? 0) > 64 * 1024 || 'x-big' in o.req.headers || (o.req.headers.authorization?.length ?? 0) > 8_000;
}

describe('system: hostile input at scale', () => {
  let system: System;
  const t0 = Date.now();

  beforeAll(async () => {
    // No workers or schedulers: only the API process is under test (jobs it accepts just wait).
    system = await startSystem({ workers: 0, schedulers: 0 });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    console.log(`[hostile-input] wall time ${Date.now() - t0} ms`);
  }, 60_000);

  it('internal handlers (sendWebhook, webhookEventRetention) are refused over HTTP with 400 naming body.handler', async () => {
    for (const handler of INTERNAL) {
      for (const headers of [{}, { 'idempotency-key': `internal-${handler}` }] as Record<string, string>[]) {
        const res = await system.call('POST', '/api/admin/job', { handler, payload: handler === 'sendWebhook' ? { subscriptionId: 'x', action: 'create', resourceId: 'r', data: {} } : {} }, { headers });
        expect(res.status, handler).toBe(400);
        expect(((await res.json()) as { field?: string }).field).toBe('body.handler');
      }
    }
    expect(await system.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'])).toEqual([]);
  });

  it(`${REQUESTS} random and hostile requests on every route: no 5xx, still healthy`, { timeout: 180_000 }, async () => {
    const doc = (await (await system.call('GET', '/api/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes: Array<[string, string]> = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), path] as [string, string]));
    expect(routes.length).toBeGreaterThanOrEqual(15);
    routes.push(['GET', '/healthz'], ['GET', '/readyz'], ['GET', '/metrics'], ['GET', '/bullBoard'], ['GET', '/api/docs'], ['GET', '/api/openapi.json']);

    // Real ids, so some requests reach the deepest code paths (found rows, not just 404s).
    const cron = await system.call('POST', '/api/admin/cronJob', { name: 'fuzz', pattern: '0 * * * *', handler: 'echo', payload: { message: 'x' } });
    expect(cron.status).toBe(201);
    const sub = await system.call('POST', '/api/admin/webhookSubscription', { url: 'https://example.invalid/hook', events: ['*'] });
    const job = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'x' } });
    const realIds = [((await cron.json()) as { id: string }).id, ((await job.json()) as { id: string }).id];
    if (sub.status === 201) realIds.push(((await sub.json()) as { id: string }).id);

    const fieldNames = ['handler', 'payload', 'options', 'delay', 'priority', 'attempts', 'backoffMs', 'dedupeKey', 'message', 'delayMs', 'name', 'pattern', 'enabled', 'maxAttempts', 'url', 'events', 'description', 'resource', 'action', 'resourceId', 'data', '__proto__', 'constructor', 'prototype'];
    const leaf = fc.oneof(
      fc.constantFrom('echo', 'sendWebhook', 'nope', '*/1 * * * * *', '0 0 31 2 *', '', "'; drop table cron_job; --", '../../etc/passwd', 'http://169.254.169.254/latest', 'file:///etc/passwd', '\u0000', '\ud800', '🦄'.repeat(200), 'x'.repeat(20_000)),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308, -0),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 5 }), fc.dictionary(fc.constantFrom(...fieldNames), tie('tree'), { maxKeys: 8 })),
    }));
    // Bodies shaped like the real ones, with one part wrong.
    const nearlyValid = fc.oneof(
      fc.record({ handler: fc.constantFrom('echo', 'sendWebhook', 'webhookEventRetention'), payload: tree, options: fc.option(tree, { nil: undefined }) }),
      fc.record({ name: tree, pattern: fc.oneof(fc.constantFrom('* * * * *', '*/1 * * * * *', '61 * * * *', '* * * * * * *', '@daily'), fc.string()), handler: fc.constantFrom('echo', 'nope'), payload: tree, enabled: tree }),
      fc.record({ url: fc.oneof(fc.webUrl(), fc.constantFrom('http://127.0.0.1:6379/', 'gopher://x', 'javascript:alert(1)', 'http://[::1]/', 'http://0x7f.1/')), events: fc.oneof(fc.array(fc.string()), tree) }),
      fc.record({ resource: tree, action: fc.constantFrom('create', 'update', 'delete', 'drop'), resourceId: tree, data: tree }),
    );
    const special = fc.constantFrom(
      '[' .repeat(100_000) + ']'.repeat(100_000), // deep JSON
      '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
      JSON.stringify({ handler: 'echo', payload: { message: 'x'.repeat(1_100_000) } }), // over 1 MiB
      JSON.stringify({ handler: 'echo', payload: { message: 'm' }, options: { delay: 1e400 } }).replace('null', '1e400'),
      '{"handler":"echo","payload":{"message":"\\ud800"}}',
      '{"handler":"echo","payload":{"message":"a"},"handler":"sendWebhook"}',
      '{"__proto__":{"polluted":true},"handler":"echo","payload":{"message":"p"}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      JSON.stringify(Array.from({ length: 100_000 }, (_, i) => i)),
      '\uFEFF{"handler":"echo","payload":{"message":"bom"}}',
      '',
      'null',
      '{',
    );
    const bodyText = fc.oneof({ weight: 4, arbitrary: nearlyValid.map((v) => JSON.stringify(v)) }, { weight: 3, arbitrary: tree.map((v) => JSON.stringify(v) ?? 'null') }, { weight: 1, arbitrary: fc.string({ maxLength: 300 }) }, { weight: 1, arbitrary: special });
    const body = fc.oneof(
      { weight: 9, arbitrary: bodyText.map((s) => Buffer.from(s)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((a) => Buffer.from(a)) }, // invalid UTF-8, NULs
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/merge-patch+json', undefined);
    const auth = fc.constantFrom<'good' | 'none' | 'garbage' | 'long' | 'alg-none' | 'basic'>('good', 'good', 'good', 'good', 'good', 'good', 'none', 'garbage', 'long', 'alg-none', 'basic');
    const query = fc.oneof(
      fc.constant(''),
      fc.constantFrom('?limit=-1', '?limit=1e10', '?limit=abc', '?limit=0', '?limit=100000', '?cursor=%00%ff', '?cursor=eyJhIjoxfQ', '?cursor=' + 'A'.repeat(4000), '?enabled=maybe', '?success=2', '?handler=%27%20OR%201%3D1', '?limit=1&limit=2', '?__proto__[x]=1'),
      fc.dictionary(fc.constantFrom('limit', 'cursor', 'enabled', 'handler', 'success', 'x'), fc.string({ maxLength: 40 }), { maxKeys: 3 }).map((q) => `?${new URLSearchParams(q)}`),
    );
    const request = fc.record({
      route: fc.constantFrom(...routes),
      method: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), { nil: undefined, freq: 4 }),
      id: fc.oneof(fc.constantFrom(...hostileIds), fc.constantFrom(...realIds), fc.string({ minLength: 1, maxLength: 100 }), fc.uuid()),
      rawId: fc.boolean(),
      query,
      body: fc.option(body, { nil: undefined, freq: 6 }),
      contentType,
      auth,
      idempotencyKey: fc.option(fc.stringMatching(/^[\x21-\x7e]{1,300}$/), { nil: undefined, freq: 5 }),
    });

    const bad = (s: string) => `Bearer ${s}`;
    const authHeader = { good: bad(system.token), none: undefined, garbage: bad('not.a.jwt'), long: bad('a'.repeat(16_000)), 'alg-none': bad('eyJhbGciOiJub25lIn0.eyJzY29wZSI6ImpvYnM6YWRtaW4ifQ.'), basic: 'Basic YWRtaW46YWRtaW4=' };
    const requests: Req[] = fc.sample(request, { numRuns: REQUESTS, seed: SEED }).map((r) => {
      const method = r.method ?? r.route[0];
      const headers: Record<string, string> = {};
      if (authHeader[r.auth]) headers.authorization = authHeader[r.auth]!;
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.idempotencyKey) headers['idempotency-key'] = r.idempotencyKey;
      const withBody = r.body !== undefined && method !== 'GET' && method !== 'HEAD';
      return { method, path: fill(r.route[1], r.id, r.rawId) + r.query, headers, body: withBody ? r.body : undefined };
    });
    // And a few transport-level ones: a 20 MiB body, a body far larger than its route accepts with a
    // lying content-type, and an oversized header block.
    requests.push(
      { method: 'POST', path: '/api/admin/job', headers: { authorization: authHeader.good, 'content-type': 'application/json' }, body: Buffer.alloc(20 * 1024 * 1024, 0x5b) },
      { method: 'POST', path: '/api/admin/cronJob', headers: { authorization: authHeader.good, 'content-type': 'application/json' }, body: Buffer.alloc(3 * 1024 * 1024, 0x20) },
      { method: 'GET', path: '/api/admin/handler', headers: { authorization: authHeader.good, 'x-big': 'y'.repeat(20_000) } },
    );

    // A connection per request: a reset then belongs to that request, not to a reused socket.
    const agent = new Agent({ keepAlive: false, maxSockets: 32 });
    const outcomes: Outcome[] = [];
    const started = Date.now();
    // A small request whose connection is reset without an answer is sent once more on a new
    // connection, and counted: see `resetSmall` in the report. The retry must be answered.
    const resetSmall: Outcome[] = [];
    await pool(requests.length, 32, async (i) => {
      const req = requests[i]!;
      const t0 = Math.round(performance.now());
      let outcome = await send(system.api.port, agent, req);
      outcome.t0 = t0;
      outcome.t1 = Math.round(performance.now());
      if (typeof outcome.status !== 'number' && !expectedCut(outcome)) {
        resetSmall.push(outcome);
        outcome = await send(system.api.port, agent, req);
      }
      outcomes.push(outcome);
    });
    const elapsed = Date.now() - started;
    agent.destroy();

    const byStatus: Record<string, number> = {};
    for (const o of outcomes) byStatus[String(o.status)] = (byStatus[String(o.status)] ?? 0) + 1;
    const describeOutcome = (o: Outcome) => `${o.req.method} ${o.req.path.slice(0, 120)} ${JSON.stringify(o.req.headers).slice(0, 200)} body=${o.req.body?.toString().slice(0, 120)} → ${o.status} ${o.body.slice(0, 200)}`;
    const fiveXx = outcomes.filter((o) => typeof o.status === 'number' && o.status >= 500);
    const transport = outcomes.filter((o) => typeof o.status !== 'number');
    console.log(`[hostile-input] ${outcomes.length} requests in ${elapsed} ms; by status ${JSON.stringify(byStatus)}`);
    if (transport.length) console.log(`[hostile-input] ${transport.length} connections cut (large bodies, oversized headers), e.g.:\n${transport.slice(0, 3).map(describeOutcome).join('\n')}`);
    if (resetSmall.length) console.log(`[hostile-input] small requests reset without an answer (then retried): ${resetSmall.length}, e.g. ${resetSmall.slice(0, 3).map((o) => `${describeOutcome(o)} after ${o.t1! - o.t0!} ms`).join(' | ')}`);
    if (process.env.SYSTEM_DEBUG) {
      for (const o of resetSmall) {
        const near = outcomes.filter((x) => x !== o && x.t0! < o.t1! && x.t1! > o.t0!);
        console.log(`SMALL RESET ${o.req.method} ${o.req.path.slice(0, 60)} ${o.t0}-${o.t1}; overlapping: ${near.map((x) => `${x.req.method} ${x.req.path.slice(0, 40)} body=${x.req.body?.length ?? 0} auth=${x.req.headers.authorization?.length ?? 0} → ${x.status} ${x.t0}-${x.t1}`).join('\n   ')}`);
      }
    }

    expect(fiveXx.map(describeOutcome), `5xx answers\n${system.api.output().slice(-4_000)}`).toEqual([]);
    const unexplained = transport.filter((o) => !expectedCut(o));
    // Seen about once per 5 000 requests on a 2-core machine (the connection is reset within a few
    // ms of being opened, no answer; cause not found): tolerated up to 1 per 1 000, so the test
    // still fails if resets become common. Retried requests must have been answered.
    expect(resetSmall.length, 'small requests reset without an answer').toBeLessThanOrEqual(Math.ceil(requests.length / 1_000));
    expect(unexplained.map(describeOutcome), 'requests with no HTTP answer').toEqual([]);

    // Still the same process, still healthy and working.
    expect(system.api.running, system.api.output()).toBe(true);
    expect(system.api.previousOutputs).toHaveLength(0);
    expect((await system.call('GET', '/healthz')).status).toBe(200);
    expect((await system.call('GET', '/readyz')).status).toBe(200);
    const after = await system.call('POST', '/api/admin/job', { handler: 'echo', payload: { message: 'still alive' } });
    expect(after.status).toBe(201);
    expect(system.api.output(), 'unhandled errors logged').not.toMatch(/unhandled error|"level":(50|60)/);
    // Prototype pollution attempts left nothing behind.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // Internal handlers (SPEC §14): no request of the run got one enqueued (the `sendWebhook` jobs
    // in the queue are the outbox relay's); each one a valid token sent as JSON was refused with 400.
    const internalEnqueues = outcomes.filter((o) => {
      if (o.req.method !== 'POST' || !/^\/api\/admin\/job\/?(\?|$)/.test(o.req.path) || !o.req.body) return false;
      try {
        const parsed = JSON.parse(o.req.body.toString()) as { handler?: unknown } | null;
        return INTERNAL.has(String(parsed?.handler));
      } catch {
        return false;
      }
    });
    expect(internalEnqueues.filter((o) => o.status === 201).map(describeOutcome), 'internal handlers enqueued over HTTP').toEqual([]);
    const wellFormed = internalEnqueues.filter((o) => o.req.headers.authorization === authHeader.good && /^application\/json(; charset=utf-8)?$/.test(o.req.headers['content-type'] ?? ''));
    // How many such requests a run makes depends on the seed and the route list (a few of 3,000);
    // the test above sends them deterministically, so no count is asserted here.
    for (const o of wellFormed) expect([400, 413], describeOutcome(o)).toContain(o.status);
  });
});
