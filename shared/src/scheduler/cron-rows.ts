import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { CronRow } from './scheduler-spec.js';

const COLUMNS = ['id', 'job_id', 'pattern', 'handler', 'payload', 'max_attempts', 'backoff_ms'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every enabled `cron_job` row, in one query (a full pass). */
export function loadEnabledRows(db: Kysely<Database>): Promise<CronRow[]> {
  return db.selectFrom('cron_job').select(COLUMNS).where('enabled', '=', true).execute();
}

/**
 * The enabled rows with one of these ids or scheduler ids (a targeted pass). Ids that are not
 * uuids cannot match and are dropped, so one stray message cannot fail the query for all.
 */
export function loadEnabledRowsFor(db: Kysely<Database>, cronJobIds: readonly string[], jobIds: readonly string[]): Promise<CronRow[]> {
  const ids = cronJobIds.filter((id) => UUID.test(id));
  if (ids.length === 0 && jobIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('cron_job')
    .select(COLUMNS)
    .where('enabled', '=', true)
    .where((eb) => {
      const either = [];
      if (ids.length > 0) either.push(eb('id', 'in', ids));
      if (jobIds.length > 0) either.push(eb('job_id', 'in', [...jobIds]));
      return eb.or(either);
    })
    .execute();
}
