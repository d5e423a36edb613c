import { html } from 'hono/html';
import type { CronJob } from '@jobs/shared/db';
import { bullBoardJobUrl } from '../bull-board-links.js';
import { postButton } from '../forms.js';
import type { Html } from '../layout.js';
import { formatUtc, scheduleText } from './cron-schedule-text.js';
import type { LastRun } from './last-run.js';

export const CRON_PATH = '/console/cron';
export const cronRowPath = (id: string) => `${CRON_PATH}/${encodeURIComponent(id)}`;

/** Enabled or disabled, in words (never by colour alone). */
export function enabledBadge(row: CronJob): Html {
  return row.enabled ? html`<span class="badge ok">Enabled</span>` : html`<span class="badge off">Disabled</span>`;
}

/** The pattern in words and the next runs (none listed while disabled: nothing will fire). */
export function scheduleCell(row: CronJob, now: Date, count = 3): Html {
  const text = scheduleText(row.pattern, count, now);
  const words = text.words ? html`<div>${text.words}</div>` : html`<div class="muted">Pattern does not parse</div>`;
  if (!row.enabled) return html`${words}<div class="muted">Next runs: none while disabled</div>`;
  return html`${words}<ul class="plain">${text.next.map((d) => html`<li class="nowrap"><time datetime="${d.toISOString()}">${formatUtc(d)}</time></li>`)}</ul>`;
}

/** The last scheduled run's outcome and time, with a link to the job in BullBoard. */
export function lastRunCell(run: LastRun | undefined, known: boolean): Html {
  if (!known) return html`<span class="muted">Unknown (Redis unavailable)</span>`;
  if (!run) return html`<span class="muted">No run on record</span>`;
  const badge =
    run.outcome === 'completed'
      ? html`<span class="badge ok">Completed</span>`
      : run.outcome === 'failed'
        ? html`<span class="badge bad">Failed</span>`
        : html`<span class="badge off">${run.outcome === 'running' ? 'Running' : 'Waiting'}</span>`;
  return html`${badge} <time datetime="${run.at.toISOString()}">${formatUtc(run.at)}</time>${
    run.failedReason ? html`<div class="muted">${run.failedReason.slice(0, 200)}</div>` : ''
  }<div><a href="${bullBoardJobUrl(run.queue, run.jobId)}">View job in BullBoard</a></div>`;
}

/**
 * A row's actions: Edit (link), Enable/Disable, Trigger now, Delete… (a link to the confirmation
 * page). `back` is where the POSTs return to. Button names carry the row's name for screen
 * readers, who may meet many "Disable" buttons on one page.
 */
export function rowActions(row: CronJob, back: string): Html {
  const path = cronRowPath(row.id);
  const hidden = { back };
  return html`<div class="actions">
<a class="button secondary" href="${path}/edit">Edit<span class="visually-hidden"> ${row.name}</span></a>
${postButton({ action: `${path}/${row.enabled ? 'disable' : 'enable'}`, label: row.enabled ? 'Disable' : 'Enable', context: row.name, variant: 'secondary', hidden })}
${postButton({ action: `${path}/trigger`, label: 'Trigger now', context: row.name, variant: 'secondary', hidden })}
<a class="button danger" href="${path}/delete">Delete…<span class="visually-hidden"> ${row.name}</span></a>
</div>`;
}
