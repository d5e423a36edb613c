// @jobs/shared/metrics: the Prometheus registry and queue-depth collector (job, scheduler and webhook metrics live with their areas).
export * from './registry.js';
export * from './queue-depth.js';
export * from './merge-registries.js';
