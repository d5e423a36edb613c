import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, QueueUnavailableError, type JobWorker } from '../../src/index.js';
import { redisKeys } from '../../src/redis/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../../scripts/lib/private-redis.js';
import { captureLogger, sleepUntil, testPrefix } from '../../../test/helpers/index.js';
import { testHandlers } from '../../../test/fixtures/test-handlers.js';

describe('Redis outage', () => {
  let server: PrivateRedis | undefined;
  let worker: JobWorker | undefined;
  afterEach(async () => {
    await worker?.close();
    await server?.stop();
  });

  it('a worker whose Redis goes away reconnects and goes on when it is back', async () => {
    // A Redis of its own, so stopping it disturbs no other test.
    server = await startPrivateRedis();
    const { port, url } = server;
    const prefix = testPrefix('outage');
    const { log, lines } = captureLogger('info');
    worker = createWorker({ handlers: testHandlers, redisUrl: url, prefix, logger: log });
    await worker.waitUntilReady();

    await server.stop();
    await sleepUntil(() => lines.some((l) => l.msg.startsWith('worker error')), { message: 'worker noticed the outage' });

    server = await startPrivateRedis({ port });
    const client = createJobClient({ handlers: testHandlers, redisUrl: url, prefix });
    try {
      const id = await client.enqueueJob('strict', { n: 2, label: 'after outage' });
      const info = await sleepUntil(async () => {
        const job = await client.getJob(id);
        return job?.state === 'completed' && job;
      }, { timeoutMs: 20_000, message: 'job completed after Redis came back' });
      expect(info.result).toBe(4);
    } finally {
      await client.close();
    }
    // One line per distinct error, not one per reconnect attempt.
    expect(lines.filter((l) => l.msg.startsWith('worker error')).length).toBeLessThan(5);
  });

  it('an abort sent while the abort channel was disconnected is read from its flag key on reconnect', async () => {
    server = await startPrivateRedis();
    const prefix = testPrefix('sweep');
    const admin = new Redis(server.url);
    worker = createWorker({ handlers: testHandlers, redisUrl: server.url, prefix, logger: captureLogger('warn').log });
    const client = createJobClient({ handlers: testHandlers, redisUrl: server.url, prefix });
    try {
      await worker.waitUntilReady();
      const list = `${prefix}:events`;
      const id = await client.enqueueJob('slow', { list, ms: 60_000 });
      await sleepUntil(async () => (await admin.llen(list)) > 0, { message: 'job started' });
      // The message is "lost": only the fallback flag is written, as if the subscriber had been
      // disconnected at publish time. Then the subscriber's connection drops and comes back.
      await admin.set(redisKeys(prefix, 'jobs').abortFlag(id), JSON.stringify({ jobId: id, reason: 'cancelled' }));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await sleepUntil(async () => (await client.getJob(id))?.state === 'cancelled', { timeoutMs: 15_000, message: 'job cancelled via the flag' });
      expect((await admin.lrange(list, 0, -1)).map((s) => (JSON.parse(s) as { event: string }).event)).toEqual(['start', 'aborted']);
    } finally {
      await client.close();
      admin.disconnect();
    }
  });

  it('the client fails fast with QueueUnavailableError while Redis is unreachable, instead of hanging', async () => {
    const client = createJobClient({ handlers: testHandlers, redisUrl: 'redis://127.0.0.1:1', prefix: testPrefix('down') });
    try {
      await expect(client.enqueueJob('strict', { n: 1, label: 'x' })).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(client.getJob('1')).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(client.cancelJob('1')).rejects.toBeInstanceOf(QueueUnavailableError);
    } finally {
      await client.close();
    }
  });
});
