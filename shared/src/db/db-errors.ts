/** Codes that mean "Postgres is not reachable right now", as opposed to a bad query or config. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  // query_canceled: statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS) or an operator's cancel. The
  // database could not serve the request in time; that is not the request's fault (503, and a job
  // waits without spending an attempt, for at most DEPENDENCY_WAIT_MAX_MS).
  '57014',
]);

/**
 * Postgres is unreachable or refusing connections (restart, network, starting up) rather than
 * rejecting what was asked. The API answers 503 for these, services wait, and jobs are put back
 * without spending an attempt.
 *
 * @example
 * catch (err) { if (isDatabaseUnavailable(err)) return retryLater(); throw err; }
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof AggregateError && err.errors.some(isDatabaseUnavailable)) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code ?? '';
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  // `Query read timeout`: no answer within query_timeout (a silent server or network); `not
  // queryable`: a later query (a rollback, say) on the connection that was dropped for it.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Client was closed and is not queryable/i.test(err.message);
}
