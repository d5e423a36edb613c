import { html } from 'hono/html';
import { urlWithoutSecrets } from '@jobs/shared/webhooks';
import type { WebhookSubscription } from '@jobs/shared/db';
import { postButton } from '../forms.js';
import type { Html } from '../layout.js';
import type { DeliveryStats } from './delivery-stats.js';
import { deliveriesPath, lastFailureText, rateText, stateText, subscriptionPath, timeText, WEBHOOKS_PATH } from './webhook-format.js';

/**
 * One subscription: its facts and figures, and every action on it (edit, enable or disable,
 * replay what it skipped, its signing secret, delete). The URL shows without its path and query,
 * where receivers often carry a secret; the edit form has it whole.
 *
 * @example
 * renderPage({ title: 'Webhook subscription', current: 'webhooks', body: subscriptionDetail(row, stats) })
 */
export function subscriptionDetail(row: WebhookSubscription, stats: DeliveryStats | undefined): Html {
  const path = subscriptionPath(row.id);
  const shownUrl = urlWithoutSecrets(row.url);
  return html`<p><a href="${WEBHOOKS_PATH}">All subscriptions</a></p>
<dl class="facts">
<dt>URL</dt><dd><span class="mono">${shownUrl}</span>${shownUrl === row.url ? '' : html` <span class="muted">(path and query hidden; Edit shows the whole URL)</span>`}</dd>
<dt>Events</dt><dd>${row.events.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`)}</dd>
<dt>Description</dt><dd>${row.description ?? html`<span class="muted">none</span>`}</dd>
<dt>State</dt><dd>${stateText(row)}</dd>
<dt>Failed attempts in a row</dt><dd>${row.consecutive_failures}</dd>
<dt>Success rate (24 h)</dt><dd>${rateText(stats)}</dd>
<dt>Last failure</dt><dd>${lastFailureText(stats)}</dd>
<dt>Id</dt><dd class="mono">${row.id}</dd>
<dt>Created</dt><dd>${timeText(row.created_at)}</dd>
<dt>Updated</dt><dd>${timeText(row.updated_at)}</dd>
</dl>
<div class="actions">
<a class="button" href="${deliveriesPath(row.id)}">Delivery log</a>
<a class="button secondary" href="${path}/edit">Edit</a>
${postButton({ action: `${path}/${row.enabled ? 'disable' : 'enable'}`, label: row.enabled ? 'Disable' : 'Enable', variant: 'secondary', hidden: { back: path } })}
</div>
<h2>Skipped events</h2>
${
  row.enabled
    ? html`<p>Events that arrived while this subscription was disabled were recorded as skipped. Send each of them once now:</p>
<div class="actions">${postButton({ action: `${path}/replay-skipped`, label: 'Replay skipped events', variant: 'secondary' })}</div>`
    : html`<p>While disabled, events are recorded as skipped, not sent. Enable the subscription, then replay them from here.</p>`
}
<h2>Signing secret</h2>
<p>Deliveries carry a <code>webhook-signature</code> made with this subscription's secret (Standard Webhooks). Either button shows the secret once, on the page it leads to.</p>
<div class="actions">
${postButton({ action: `${path}/secret`, label: 'Reveal secret', variant: 'secondary' })}
<a class="button secondary" href="${path}/rotate-secret">Rotate secret…</a>
</div>
<h2>Delete</h2>
<div class="actions"><a class="button danger" href="${path}/delete">Delete subscription…</a></div>`;
}

/**
 * A confirmation page for an action that cannot be undone: what it does, the button that does it,
 * and a way back.
 *
 * @example
 * confirmation({ text: 'Delete …?', action: `${path}/delete`, label: 'Delete subscription', back: path })
 */
export function confirmation(options: { text: Html | string; action: string; label: string; back: string; danger?: boolean }): Html {
  return html`<p>${options.text}</p>
<div class="actions">
${postButton({ action: options.action, label: options.label, variant: options.danger ? 'danger' : 'primary' })}
<a class="button secondary" href="${options.back}">Cancel</a>
</div>`;
}

/**
 * The page that shows a secret, this once (the answer is `no-store`).
 *
 * @example
 * secretShown({ row, secret, note: 'Rotated.' })
 */
export function secretShown(options: { row: WebhookSubscription; secret: string; note: Html | string }): Html {
  return html`<p>${options.note}</p>
<div class="field"><label for="secret">Signing secret of ${urlWithoutSecrets(options.row.url)}</label>
<input type="text" id="secret" class="mono" readonly value="${options.secret}" autocomplete="off" spellcheck="false"></div>
<p class="muted">Copy it into the receiver's configuration now; this page is not kept by the browser's cache.</p>
<p><a href="${subscriptionPath(options.row.id)}">Back to the subscription</a></p>`;
}
