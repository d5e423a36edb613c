// `npm run migrate`: applies pending migrations to the configured database (Postgres, or the
// embedded PGlite in local) and exits 0, or prints one line and exits 1.
import { loadConfigOrExit } from '../config/config.js';
import { createDatabase } from './database.js';
import { migrateToLatest } from './migrator.js';

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  // No statement or query limit: a migration (an index on a big table, say) may rightly take minutes.
  const { db, close } = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, timeouts: { statementMs: 0, queryMs: 0 } });
  try {
    const { applied } = await migrateToLatest(db);
    if (applied.length === 0) console.log('database is up to date');
    for (const name of applied) console.log(`applied ${name}`);
    return 0;
  } finally {
    await close();
  }
}

/** One printable line; pg's connection errors can be AggregateErrors with an empty message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message;
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  return (err as { code?: string }).code ?? err.name;
}

// exitCode rather than process.exit(): exiting at once could cut off output still queued on a pipe.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`migrate failed: ${describe(err).split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
