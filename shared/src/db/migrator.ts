import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { migrations } from './migrations/index.js';

export interface MigrateOptions {
  /** Schema holding Kysely's migration bookkeeping tables; use the same one as `createDatabase`. */
  schema?: string;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Applies every pending migration. Throws an Error naming the failing migration; Kysely runs
 * each migration in a transaction, so a failed one leaves nothing half-applied.
 *
 * @example
 * const { applied } = await migrateToLatest(db);   // e.g. ['0001_initial'], or [] when up to date
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrator = new Migrator({
    db,
    provider,
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : `migrations failed: ${reason}`, {
      cause: error,
    });
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
