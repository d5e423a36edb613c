import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/index.js';
import { parseCronChange, publishCronChanged } from '../../src/cron/index.js';
import { sleepUntil, testPrefix, TEST_REDIS_URL } from '../../../test/helpers/index.js';

describe('cron change messages', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const subscriber = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    await subscriber.quit();
    await redis.quit();
  });

  it('publishCronChanged reaches a subscriber of the channel and parses back', async () => {
    const keys = redisKeys(testPrefix('chg'), 'jobs');
    const got: string[] = [];
    subscriber.on('message', (channel: string, text: string) => channel === keys.cronChangedChannel && got.push(text));
    await subscriber.subscribe(keys.cronChangedChannel);
    expect(await publishCronChanged(redis, keys, { cronJobId: 'c1', op: 'update', jobId: 'nightly' })).toBe(true);
    expect(await publishCronChanged(redis, keys, { cronJobId: 'c2', op: 'delete' })).toBe(true);
    await sleepUntil(() => got.length === 2, { message: 'two messages' });
    expect(got.map(parseCronChange)).toEqual([
      { cronJobId: 'c1', op: 'update', jobId: 'nightly' },
      { cronJobId: 'c2', op: 'delete' },
    ]);
  });

  it('publishCronChanged resolves false instead of throwing when Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => undefined);
    expect(await publishCronChanged(down, redisKeys('p', 'q'), { cronJobId: 'c1', op: 'create' })).toBe(false);
    down.disconnect();
  });

  it.each(['not json', '42', 'null', '{"op":"update"}', '{"cronJobId":"c","op":"rename"}', '{"cronJobId":"","op":"update"}', '{"cronJobId":"c","op":"update","jobId":7}'])(
    'parseCronChange ignores %s',
    (text) => expect(parseCronChange(text)).toBeUndefined(),
  );
});
