import { afterEach, describe, expect, it } from 'vitest';
import { openServiceDatabase } from '../src/db/index.js';
import { loadConfig } from '../src/config/index.js';
import { captureLogger, sleepUntil, startTcpProxy, type TcpProxy } from '../../test/helpers/index.js';
import { freePort } from '../../scripts/lib/free-port.js';

describe('openServiceDatabase', () => {
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('waits (logging once) while Postgres is unreachable, and opens it when it appears', async () => {
    const port = await freePort();
    proxy = await startTcpProxy({ targetPort: 5432, port, listenNow: false });
    const config = loadConfig({ APP_ENV: 'staging', DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, WEBHOOK_SIGNING_KEY_FILE: '/unused', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' });
    const { log, lines } = captureLogger();
    const opening = openServiceDatabase(config, log, { retryMs: 50 });
    await sleepUntil(() => lines.some((l) => l.msg === 'database unreachable: waiting for it'));
    // "Postgres starts": a TCP forwarder to the real one appears on the port.
    await proxy.listen();
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
    const config = loadConfig({ APP_ENV: 'staging', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database', WEBHOOK_SIGNING_KEY_FILE: '/unused', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' });
    await expect(openServiceDatabase(config, captureLogger().log, { retryMs: 50 })).rejects.toThrow(/does not exist/);
  });
});
