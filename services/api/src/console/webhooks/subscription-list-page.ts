import { html } from 'hono/html';
import { urlWithoutSecrets } from '@jobs/shared/webhooks';
import type { WebhookSubscription } from '@jobs/shared/db';
import { encodeCursor, type KeysetPosition } from '../../cron/pagination.js';
import { postButton } from '../forms.js';
import type { Html } from '../layout.js';
import type { DeliveryStats } from './delivery-stats.js';
import { deliveriesPath, lastFailureText, rateText, stateText, subscriptionPath, WEBHOOKS_PATH } from './webhook-format.js';

/**
 * The subscription list: URL without its secrets (scheme and host only), events, state with the
 * breaker's reason, success rate over 24 h, last failure, and the actions of each row.
 *
 * @example
 * renderPage({ title: 'Webhook subscriptions', current: 'webhooks', body: subscriptionList({ rows, stats, next, paged }) })
 */
export function subscriptionList(options: { rows: WebhookSubscription[]; stats: Map<string, DeliveryStats>; next: KeysetPosition | undefined; paged: boolean }): Html {
  const { rows, stats } = options;
  const table = rows.length
    ? html`<div class="table-wrap"><table aria-label="Webhook subscriptions">
<thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Success rate (24 h)</th><th scope="col">Last failure</th><th scope="col">Actions</th></tr></thead>
<tbody>
${rows.map((row) => subscriptionRow(row, stats.get(row.id)))}
</tbody>
</table></div>`
    : html`<p>${options.paged ? 'No more subscriptions.' : 'No webhook subscriptions yet.'}</p>`;
  return html`<div class="actions"><a class="button" href="${WEBHOOKS_PATH}/new">New subscription</a></div>
${table}
<nav class="pagination" aria-label="Pages">
${options.paged ? html`<a href="${WEBHOOKS_PATH}">First page</a>` : ''}
${options.next ? html`<a href="${WEBHOOKS_PATH}?cursor=${encodeCursor(options.next)}">Next page</a>` : ''}
</nav>`;
}

function subscriptionRow(row: WebhookSubscription, stats: DeliveryStats | undefined): Html {
  const shown = urlWithoutSecrets(row.url);
  return html`<tr>
<td><a href="${subscriptionPath(row.id)}" class="mono" id="sub-${row.id}">${shown}</a>${row.description ? html`<br><span class="muted">${row.description}</span>` : ''}</td>
<td>${row.events.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`)}</td>
<td>${stateText(row)}</td>
<td class="num">${rateText(stats)}</td>
<td>${lastFailureText(stats)}</td>
<td><div class="actions">
<a href="${deliveriesPath(row.id)}" aria-describedby="sub-${row.id}">Delivery log</a>
${postButton({
  action: `${subscriptionPath(row.id)}/${row.enabled ? 'disable' : 'enable'}`,
  label: row.enabled ? 'Disable' : 'Enable',
  variant: 'secondary',
  hidden: { back: WEBHOOKS_PATH },
  context: shown,
})}
</div></td>
</tr>`;
}
