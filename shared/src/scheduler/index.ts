// @jobs/shared/scheduler: the scheduler's leader lock, reconcile plan and sync (SPEC §5). Internal to the services.
export * from './leader-lock.js';
export * from './scheduler-spec.js';
export * from './reconcile.js';
export * from './scheduler-metrics.js';
export * from './scheduler.js';
export * from './builtin-schedules.js';
