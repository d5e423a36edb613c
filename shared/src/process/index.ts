// @jobs/shared/process: health server, readiness and shutdown for the three services.
export * from './readiness.js';
export * from './health-server.js';
export * from './shutdown.js';
export * from './with-timeout.js';
