import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, openServiceDatabase } from '../src/index.js';
import { captureLogger, sleepUntil } from '../../test/helpers/index.js';
import { freePort } from '../../scripts/lib/free-port.js';

describe('openServiceDatabase', () => {
  let proxy: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    proxy = undefined;
  });

  it('waits (logging once) while Postgres is unreachable, and opens it when it appears', async () => {
    const port = await freePort();
    const config = loadConfig({ APP_ENV: 'staging', DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, WEBHOOK_SIGNING_KEY_FILE: '/unused' });
    const { log, lines } = captureLogger();
    const opening = openServiceDatabase(config, log, { retryMs: 50 });
    await sleepUntil(() => lines.some((l) => l.msg === 'database unreachable: waiting for it'));
    // "Postgres starts": a TCP forwarder to the real one appears on the port.
    proxy = createServer((socket) => {
      const upstream = connect(5432, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
    const database = await opening;
    try {
      expect(lines.filter((l) => l.msg === 'database unreachable: waiting for it')).toHaveLength(1);
      expect(lines.some((l) => l.msg === 'database reachable')).toBe(true);
      await database.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    } finally {
      await database.close();
    }
  });

  it('fails at once for a database that does not exist', async () => {
    const config = loadConfig({ APP_ENV: 'staging', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database', WEBHOOK_SIGNING_KEY_FILE: '/unused' });
    await expect(openServiceDatabase(config, captureLogger().log, { retryMs: 50 })).rejects.toThrow(/does not exist/);
  });
});
