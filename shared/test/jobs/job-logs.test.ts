import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobClient, createWorker, type JobClient, type JobWorker } from '../../src/index.js';
import { captureLogger, cleanupPrefix, sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';
import { chatty } from '../../../test/fixtures/test-handlers.js';

describe('handler logs in the job (as BullBoard shows them)', () => {
  const handlers = { chatty };
  let prefix: string;
  let client: JobClient<typeof handlers>;
  let worker: JobWorker;
  beforeEach(async () => {
    prefix = testPrefix('logs');
    client = createJobClient({ handlers, redisUrl: TEST_REDIS_URL, prefix });
    worker = createWorker({ handlers, redisUrl: TEST_REDIS_URL, prefix, logger: captureLogger('info').log });
    await worker.waitUntilReady();
  });
  afterEach(async () => {
    await worker.close();
    await client.close();
    await cleanupPrefix(prefix);
  });

  it('copies info and above into the job log, without secrets, and keeps debug out', async () => {
    const id = await client.enqueueJob('chatty', { secret: 'hunter2' });
    await sleepUntil(async () => (await client.getJob(id))?.state === 'completed');
    const { logs } = await client.queue.getJobLogs(id);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^\d{4}-\d\d-\d\dT.+ INFO first step done \{"step":1,"password":"\[redacted\]"\}$/);
    expect(logs[1]).toMatch(/ WARN almost out of time$/);
    expect(logs.join('\n')).not.toContain('hunter2');
  });
});
