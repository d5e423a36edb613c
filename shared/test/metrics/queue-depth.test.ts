import { createServer, type Server, type Socket } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerQueueDepth } from '../../src/metrics/queue-depth.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix } from '../../../test/helpers/index.js';

describe('queue_jobs', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  it('reports each queue by state from Redis at scrape time', async () => {
    const prefix = testPrefix('depth');
    closers.push(() => cleanupPrefix(prefix));
    const connection = new Redis(TEST_REDIS_URL);
    const queue = new Queue('depth', { connection, prefix });
    closers.push(async () => {
      await queue.close();
      connection.disconnect();
    });
    await queue.add('a', {});
    await queue.add('b', {}, { delay: 60_000 });
    const registry = new Registry();
    registerQueueDepth(registry, queue);
    const text = await registry.metrics();
    expect(text).toContain('queue_jobs{queue="depth",state="waiting"} 1');
    expect(text).toContain('queue_jobs{queue="depth",state="delayed"} 1');
  });

  it('a scrape still answers when the queue never reached Redis (down at start): the counts give up after the bound', async () => {
    // A server that accepts and never answers: ioredis holds every command waiting for the handshake.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const port = (silent.address() as { port: number }).port;
    const connection = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null, lazyConnect: false });
    closers.push(async () => connection.disconnect());
    const queue = new Queue('never-up', { connection, prefix: testPrefix('depth') });
    const registry = new Registry();
    registerQueueDepth(registry, queue, 200);
    // Without the bound this never settles, and the test fails on its timeout.
    const text = await registry.metrics();
    expect(text).toContain('# TYPE queue_jobs gauge');
    expect(text).not.toContain('queue="never-up"');
  });
});
