// @jobs/shared/cron: cron pattern parsing and change detection (SPEC §5).
export * from './cron-pattern.js';
export * from './cron-changes.js';
