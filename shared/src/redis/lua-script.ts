import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run with EVALSHA, so its source crosses the wire once per Redis server (it is
 * loaded with EVAL the first time a server answers NOSCRIPT: first use, restart, failover, or
 * another node of a cluster). Every key a script touches must be passed in `keys`, and on a
 * cluster they must share a hash slot (this project's keys all do under a `{…}` prefix).
 *
 * @example
 * const incrTo = new LuaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`);
 * await incrTo.run(redis, [key], [5]);
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
