import type { ResolvedRedis } from './private-redis.js';

export interface BannerInfo {
  port: number;
  redis: ResolvedRedis;
  database: { kind: 'pglite'; path: string } | { kind: 'postgres'; url: string };
}

/**
 * The few lines a local run prints once it is up: where to click, and which Redis and database
 * it really uses (a private Redis or an embedded database is easy to mistake for your own).
 *
 * @example
 * process.stdout.write(formatBanner({ port: 8000, redis, database: { kind: 'pglite', path } }));
 */
export function formatBanner({ port, redis, database }: BannerInfo): string {
  const api = `http://localhost:${port}`;
  const redisLine =
    redis.source === 'private'
      ? `${redis.url} (private redis-server, stopped on exit)`
      : `${redactUrl(redis.url)} (from REDIS_URL)`;
  const dbLine = database.kind === 'pglite' ? `PGlite in ${database.path}` : `Postgres at ${redactUrl(database.url)}`;
  return [
    '',
    'Jobs is running locally: api + worker + scheduler in one process',
    `  API:        ${api}`,
    `  BullBoard:  ${api}/bullBoard`,
    `  Redis:      ${redisLine}`,
    `  Database:   ${dbLine}`,
    'Press Ctrl-C to stop.',
    '',
    '',
  ].join('\n');
}

/** The URL with its password masked: secrets are never printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
