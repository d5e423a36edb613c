import { html } from 'hono/html';
import type { CronJob } from '@jobs/shared/db';
import { postButton } from '../forms.js';
import type { Html } from '../layout.js';
import { formatUtc } from './cron-schedule-text.js';
import { CRON_PATH, cronRowPath, enabledBadge, lastRunCell, rowActions, scheduleCell } from './cron-views.js';
import type { LastRun } from './last-run.js';

/** One cron job: every field, its schedule, the last run, and the actions. */
export function cronDetailBody(row: CronJob, run: LastRun | undefined, runKnown: boolean, now: Date): Html {
  return html`${rowActions(row, cronRowPath(row.id))}
<dl class="facts">
<dt>Name</dt><dd>${row.name}</dd>
<dt>Pattern</dt><dd class="mono">${row.pattern}</dd>
<dt>Schedule (UTC)</dt><dd>${scheduleCell(row, now, 3)}</dd>
<dt>Enabled</dt><dd>${enabledBadge(row)}</dd>
<dt>Last run</dt><dd>${lastRunCell(run, runKnown)}</dd>
<dt>Handler</dt><dd class="mono">${row.handler}</dd>
<dt>Payload</dt><dd><pre>${JSON.stringify(row.payload, null, 2)}</pre></dd>
<dt>Max attempts</dt><dd>${row.max_attempts}</dd>
<dt>Backoff</dt><dd>${row.backoff_ms} ms</dd>
<dt>Job id</dt><dd class="mono">${row.job_id}</dd>
<dt>Id</dt><dd class="mono">${row.id}</dd>
<dt>Created</dt><dd>${formatUtc(row.created_at)}</dd>
<dt>Updated</dt><dd>${formatUtc(row.updated_at)}</dd>
</dl>
<p><a href="${CRON_PATH}">Back to the cron jobs</a></p>`;
}

/** "Delete this cron job?": what goes, and the two ways out. Nothing is deleted by a GET. */
export function cronDeleteBody(row: CronJob): Html {
  return html`<p>Delete the cron job <strong>${row.name}</strong> (<span class="mono">${row.pattern}</span>, handler <span class="mono">${row.handler}</span>)?
Its job scheduler is removed, so it will not run again. Jobs it already started are not affected. This cannot be undone.</p>
<div class="actions">
${postButton({ action: `${cronRowPath(row.id)}/delete`, label: 'Delete cron job', variant: 'danger' })}
<a href="${cronRowPath(row.id)}">Cancel</a>
</div>`;
}
