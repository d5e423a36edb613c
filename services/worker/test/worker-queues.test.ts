import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/config/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { startWorkerService, type WorkerService } from '../src/worker-service.js';

describe('worker service and WORKER_QUEUES (SPEC §12)', () => {
  let service: WorkerService | undefined;
  let t: TestDatabase | undefined;
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await service?.close();
    service = undefined;
    await t?.close();
    for (const c of cleanup.splice(0)) await c();
  });

  it('runs the queues WORKER_QUEUES names, says so when it starts, and /readyz checks every queue it runs', async () => {
    const prefix = testPrefix('wsq');
    const dataDir = await mkdtemp(join(tmpdir(), 'jobs-wsq-'));
    cleanup.push(() => cleanupPrefix(prefix), () => rm(dataDir, { recursive: true, force: true }));
    t = await createTestDatabase();
    const config = loadConfig({ APP_ENV: 'test', REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, WORKER_QUEUES: 'jobs:3' });
    const { log, lines } = captureLogger('info');
    service = await startWorkerService(config, log, { db: t.db, healthPort: 0 });
    const started = lines.find((l) => l.msg === 'worker started') as unknown as { queues: Record<string, number>; healthPort: number };
    expect(started.queues).toEqual({ jobs: 3 });
    const ready = await sleepUntil(async () => {
      const res = await fetch(`http://127.0.0.1:${started.healthPort}/readyz`);
      return res.status === 200 && ((await res.json()) as { checks: Record<string, string> });
    }, { message: 'ready' });
    expect(ready.checks).toMatchObject({ redis: 'ok', db: 'ok', queues: 'ok' });
  });
});
