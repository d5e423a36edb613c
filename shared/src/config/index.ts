// @jobs/shared/config: reading and validating the environment (SPEC §2).
export { envSchema, type Env } from './env-schema.js';
export * from './config.js';
export * from './worker-queues.js';
