import { sql, type Kysely, type Transaction } from 'kysely';
import type { CronJob, CronJobUpdate, Database, NewCronJob } from '@jobs/shared/db';
import { afterPosition, createdAtText, toPage, type KeysetPosition } from './pagination.js';
import { isUuid } from './uuid.js';

/** The pool or an open transaction: every function here runs on either. */
export type DbExecutor = Kysely<Database> | Transaction<Database>;

/**
 * Inserts a row and returns it. A taken `job_id` rejects with Postgres' unique violation; see
 * {@link isJobIdConflict}.
 *
 * @example
 * const row = await insertCronJobRow(trx, { job_id: 'nightly', name: 'Nightly', pattern: '0 3 * * *', handler: 'echo' });
 */
export function insertCronJobRow(db: DbExecutor, values: NewCronJob): Promise<CronJob> {
  return db.insertInto('cron_job').values(values).returningAll().executeTakeFirstOrThrow();
}

/**
 * The row with this id, or undefined (also for an id that is not a uuid). `forUpdate` locks it
 * until the transaction ends, so a read-merge-write cannot lose a concurrent update.
 *
 * @example
 * const row = await findCronJobRow(trx, id, { forUpdate: true });
 */
export async function findCronJobRow(db: DbExecutor, id: string, options: { forUpdate?: boolean } = {}): Promise<CronJob | undefined> {
  if (!isUuid(id)) return undefined;
  let query = db.selectFrom('cron_job').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/**
 * Applies `changes` and bumps `updated_at`; returns the new row, or undefined if there is none.
 *
 * @example
 * await updateCronJobRow(trx, id, { enabled: false });
 */
export function updateCronJobRow(db: DbExecutor, id: string, changes: CronJobUpdate): Promise<CronJob | undefined> {
  if (!isUuid(id)) return Promise.resolve(undefined);
  return db
    .updateTable('cron_job')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Deletes the row; returns what it was, or undefined if there was none.
 *
 * @example
 * const gone = await deleteCronJobRow(trx, id);
 */
export function deleteCronJobRow(db: DbExecutor, id: string): Promise<CronJob | undefined> {
  if (!isUuid(id)) return Promise.resolve(undefined);
  return db.deleteFrom('cron_job').where('id', '=', id).returningAll().executeTakeFirst();
}

export interface ListCronJobRowsOptions {
  limit: number;
  /** Start after this position (from the previous page's cursor). */
  after?: KeysetPosition;
  enabled?: boolean;
  handler?: string;
}

/**
 * One page in `(created_at, id)` order, oldest first, and the position to continue from
 * (undefined on the last page). Rows created while paging land at the end, so none is skipped.
 *
 * @example
 * const { rows, next } = await listCronJobRows(db, { limit: 20, enabled: true });
 */
export async function listCronJobRows(db: DbExecutor, options: ListCronJobRowsOptions): Promise<{ rows: CronJob[]; next: KeysetPosition | undefined }> {
  let query = db.selectFrom('cron_job').selectAll().select(createdAtText.as('position_created_at'));
  if (options.after) query = query.where(afterPosition(options.after));
  if (options.enabled !== undefined) query = query.where('enabled', '=', options.enabled);
  if (options.handler !== undefined) query = query.where('handler', '=', options.handler);
  return toPage(await query.orderBy('created_at').orderBy('id').limit(options.limit + 1).execute(), options.limit);
}

/** Postgres' unique violation on `cron_job.job_id` (constraint `cron_job_job_id_key`). */
export function isJobIdConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  // `id` is a generated uuid, so job_id is the only unique column a caller can collide on.
  return code === '23505' && (typeof constraint !== 'string' || constraint.includes('job_id'));
}
