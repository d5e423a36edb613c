export * from './schema.js';
export { createDatabase, type CreateDatabaseOptions, type DatabaseHandle } from './database.js';
export { migrateToLatest, type MigrateOptions } from './migrator.js';
export { migrations } from './migrations/index.js';
export { openServiceDatabase } from './open-service-database.js';
export { isDatabaseUnavailable } from './db-errors.js';
