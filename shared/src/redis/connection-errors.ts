const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/**
 * Errors that mean "Redis is not there" (a fail-fast producer connection gave up, or the socket
 * went away), as opposed to a bad command: callers answer 503 for these, not 500.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (CONNECTION_CODES.has((err as { code?: string }).code ?? '')) return true;
  return /enableOfflineQueue|Connection is closed|Stream isn't writeable/i.test(err.message);
}
