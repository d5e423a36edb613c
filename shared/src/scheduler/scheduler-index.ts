import type { JobSchedulerJson } from 'bullmq';

/**
 * Which scheduler ids belong to which `cron_job.id`, as last seen in Redis. A targeted pass
 * uses it to find the scheduler of a row that was deleted or whose `job_id` changed: the row
 * no longer leads to it, the index still does.
 */
export class SchedulerIndex {
  private readonly owner = new Map<string, string>();
  private readonly byRow = new Map<string, Set<string>>();

  /** Forgets everything and indexes what a full read of Redis returned. */
  reset(schedulers: readonly JobSchedulerJson[]): void {
    this.owner.clear();
    this.byRow.clear();
    for (const s of schedulers) this.set(s.key, cronJobIdOf(s));
  }

  set(schedulerId: string, cronJobId: string | undefined): void {
    this.delete(schedulerId);
    if (cronJobId === undefined) return;
    this.owner.set(schedulerId, cronJobId);
    let ids = this.byRow.get(cronJobId);
    if (!ids) this.byRow.set(cronJobId, (ids = new Set()));
    ids.add(schedulerId);
  }

  delete(schedulerId: string): void {
    const row = this.owner.get(schedulerId);
    if (row === undefined) return;
    this.owner.delete(schedulerId);
    const ids = this.byRow.get(row);
    ids?.delete(schedulerId);
    if (ids?.size === 0) this.byRow.delete(row);
  }

  /** Scheduler ids last seen carrying this `cronJobId`. */
  schedulersOf(cronJobId: string): string[] {
    return [...(this.byRow.get(cronJobId) ?? [])];
  }
}

/** The `cronJobId` in a scheduler's job template, if it is one of ours. */
export function cronJobIdOf(scheduler: JobSchedulerJson): string | undefined {
  const data = scheduler.template?.data as { cronJobId?: unknown } | undefined;
  return typeof data?.cronJobId === 'string' ? data.cronJobId : undefined;
}
