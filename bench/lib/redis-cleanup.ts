import type { Redis } from 'ioredis';

/**
 * Deletes every key that starts with `${prefix}:` (SCAN + UNLINK in batches); returns how many.
 * `prefix` must not contain glob characters (`*?[]\`).
 */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  if (/[*?[\]\\]/.test(prefix)) throw new Error(`prefix has glob characters: ${prefix}`);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
