// @jobs/shared/logger: pino with the seed's scope ids and redaction (SPEC §10).
export * from './logger.js';
