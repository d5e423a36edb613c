import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../helpers/index.js';
import { buildProduction, root, SERVICE_NAMES, SERVICES } from './lib/deployment.js';
import { databaseUrlFor, spawnService, waitHealthy, writeSigningKey } from './lib/service-process.js';

/** WEBHOOK_SECRET_KEY of the services started here (required outside local/test). */
const SECRET_KEY = randomBytes(32).toString('base64');

// SPEC §11: each service starts alone from the compiled output, as the images run it. (The
// images run node directly: npm would not pass SIGTERM's exit status on. dockerfiles.test.ts
// checks that path, services/worker/test/worker-main.test.ts a compiled worker running jobs.)
describe('npm run start:api | start:worker | start:scheduler', () => {
  let dir: string;
  let t: TestDatabase;
  let keyFile: string;
  const prefixes: string[] = [];

  beforeAll(async () => {
    await buildProduction(); // so each script's own `tsc -b` finds nothing to do
    dir = await mkdtemp(join(tmpdir(), 'jobs-start-'));
    keyFile = await writeSigningKey(dir);
    t = await createTestDatabase();
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    for (const p of prefixes) await cleanupPrefix(p);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(SERVICE_NAMES)(
    'start:%s builds, starts from dist/ and answers /healthz',
    async (svc) => {
      const port = await freePort();
      const prefix = testPrefix('start');
      prefixes.push(prefix);
      const service = spawnService(['npm', 'run', `start:${svc}`], {
        cwd: root,
        detached: true, // npm → sh → node: signal the whole group
        env: {
          APP_ENV: 'staging',
          LOG_LEVEL: 'info',
          [SERVICES[svc].portVar]: String(port),
          REDIS_URL: TEST_REDIS_URL,
          QUEUE_PREFIX: prefix,
          DATABASE_URL: databaseUrlFor(t.schema),
          WEBHOOK_SIGNING_KEY_FILE: keyFile,
          WEBHOOK_SECRET_KEY: SECRET_KEY,
          AUTH_JWT_SECRET: 'a-deployment-secret-of-at-least-32-characters',
        },
      });
      try {
        await waitHealthy(service, port, 90_000);
        expect(service.output()).toContain(`node dist/main.js`);
        // Ready once its dependencies answer and (the worker) every queue's worker has started.
        await sleepUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, { timeoutMs: 20_000, message: '/readyz 200' });
        // npm exits at once on SIGTERM; the service (in the same group) drains, then logs this.
        service.kill('SIGTERM');
        await sleepUntil(() => service.output().includes('shut down cleanly'), { timeoutMs: 20_000, message: 'clean shutdown' });
      } finally {
        service.kill('SIGKILL');
      }
    },
    120_000,
  );
});
