import { html } from 'hono/html';
import type { CronJob } from '@jobs/shared/db';
import type { Html } from '../layout.js';
import { CRON_PATH, cronRowPath, enabledBadge, lastRunCell, rowActions, scheduleCell } from './cron-views.js';
import type { LastRun } from './last-run.js';

/**
 * The cron job list: one table row per job (name, pattern, in words with the next 3 runs in
 * UTC, enabled, last run, actions), oldest first, a page at a time. On a phone each row is a card
 * (`.stack`); the explicit ARIA roles keep it a table for screen readers, which a CSS `display`
 * change would otherwise drop. Keyset pages: "Next page" carries the cursor, "First page" goes
 * back to the start.
 */
export function cronListBody(options: { rows: CronJob[]; runs: Map<string, LastRun> | undefined; nextCursor: string | undefined; isFirstPage: boolean; self: string; now: Date }): Html {
  const { rows, runs, now } = options;
  const table = rows.length
    ? html`<div class="table-wrap stack"><table role="table">
<caption class="visually-hidden">Cron jobs</caption>
<thead role="rowgroup"><tr role="row"><th scope="col" role="columnheader">Name</th><th scope="col" role="columnheader">Pattern</th><th scope="col" role="columnheader">Schedule (UTC)</th><th scope="col" role="columnheader">Enabled</th><th scope="col" role="columnheader">Last run</th><th scope="col" role="columnheader">Actions</th></tr></thead>
<tbody role="rowgroup">
${rows.map(
  (row) => html`<tr role="row">
<td role="cell" data-label="Name"><a href="${cronRowPath(row.id)}">${row.name}</a><div class="muted mono">${row.handler}</div></td>
<td role="cell" data-label="Pattern" class="mono nowrap">${row.pattern}</td>
<td role="cell" data-label="Schedule (UTC)">${scheduleCell(row, now)}</td>
<td role="cell" data-label="Enabled">${enabledBadge(row)}</td>
<td role="cell" data-label="Last run">${lastRunCell(runs?.get(row.id), runs !== undefined)}</td>
<td role="cell" data-label="Actions">${rowActions(row, options.self)}</td>
</tr>`,
)}
</tbody>
</table></div>`
    : html`<p>${options.isFirstPage ? 'No cron jobs yet.' : 'No more cron jobs.'}</p>`;
  const pagination =
    options.nextCursor || !options.isFirstPage
      ? html`<nav class="pagination" aria-label="Pages">${!options.isFirstPage ? html`<a href="${CRON_PATH}">First page</a>` : ''}${
          options.nextCursor ? html`<a href="${CRON_PATH}?cursor=${encodeURIComponent(options.nextCursor)}">Next page</a>` : ''
        }</nav>`
      : '';
  return html`<p class="actions"><a class="button" href="${CRON_PATH}/new">New cron job</a></p>
${table}
${pagination}`;
}
