import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { sleepUntil, testPrefix, TEST_REDIS_URL } from '../helpers/index.js';
import { buildProduction, root, SERVICE_NAMES, SERVICES } from './lib/deployment.js';
import { spawnService, writeSigningKey } from './lib/service-process.js';

/** WEBHOOK_SECRET_KEY of the services started here (required outside local/test). */
const SECRET_KEY = randomBytes(32).toString('base64');

// A service started before its database waits for it; stopping it then (a rollout, a scale-down)
// must be a clean exit, as the orchestrator reads anything else as a crash.
describe('SIGTERM while a compiled service waits for an unreachable Postgres', () => {
  let dir: string;
  let keyFile: string;

  beforeAll(async () => {
    await buildProduction();
    dir = await mkdtemp(join(tmpdir(), 'jobs-startup-signal-'));
    keyFile = await writeSigningKey(dir);
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(SERVICE_NAMES)(
    '%s exits 0 at once',
    async (svc) => {
      const service = spawnService(['node', `services/${svc}/dist/main.js`], {
        cwd: root,
        env: {
          APP_ENV: 'staging',
          LOG_LEVEL: 'info',
          [SERVICES[svc].portVar]: String(await freePort()),
          REDIS_URL: TEST_REDIS_URL,
          QUEUE_PREFIX: testPrefix('startsig'),
          // Nothing listens there: the service keeps waiting for its database.
          DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test`,
          WEBHOOK_SIGNING_KEY_FILE: keyFile,
          WEBHOOK_SECRET_KEY: SECRET_KEY,
          AUTH_JWT_SECRET: 'a-deployment-secret-of-at-least-32-characters',
        },
      });
      try {
        await sleepUntil(() => service.output().includes('database unreachable: waiting for it'), { timeoutMs: 30_000, message: 'the database wait' });
        service.kill('SIGTERM');
        expect(await service.exited).toBe(0);
        expect(service.output()).toContain('stopped while starting');
      } finally {
        service.kill('SIGKILL');
      }
    },
    60_000,
  );
});
