import { html } from 'hono/html';
import { urlWithoutSecrets } from '@jobs/shared/webhooks';
import type { WebhookEvent, WebhookSubscription } from '@jobs/shared/db';
import { encodeCursor } from '../../cron/pagination.js';
import { errorSummary, postButton, selectField, textField } from '../forms.js';
import type { Html } from '../layout.js';
import type { DeliveryLogPage, LoggedEvent } from './delivery-log.js';
import { ERROR_CODES, OUTCOMES, type ParsedLogQuery } from './delivery-log-filter.js';
import { attemptPath, deliveriesPath, errorCodeText, outcomeText, stateText, subscriptionPath, timeText } from './webhook-format.js';

const FILTER_LABELS = { outcome: 'Outcome', error: 'Error code', type: 'Event type', event: 'Event id', cursor: 'Page' };

/**
 * A subscription's delivery log: the filter form (GET, so a filtered log is a link), then each
 * event with its attempts together, newest first, and a Replay button per event.
 *
 * @example
 * deliveryLogBody({ row, query, page })
 */
export function deliveryLogBody(options: { row: WebhookSubscription; query: ParsedLogQuery; page: DeliveryLogPage | undefined }): Html {
  const { row, query, page } = options;
  const base = deliveriesPath(row.id);
  return html`<p><a href="${subscriptionPath(row.id)}">Subscription ${urlWithoutSecrets(row.url)}</a> · ${stateText(row)}</p>
${row.enabled ? html`<div class="actions">${postButton({ action: `${subscriptionPath(row.id)}/replay-skipped`, label: 'Replay skipped events', variant: 'secondary', hidden: { back: base } })}</div>` : ''}
${filterForm(base, query)}
${page ? eventList(row, page, base) : ''}
${page?.next ? html`<nav class="pagination" aria-label="Pages"><a href="${base}?${nextQuery(query, encodeCursor(page.next))}">Older events</a></nav>` : ''}`;
}

function filterForm(action: string, query: ParsedLogQuery): Html {
  const { values, errors } = query;
  return html`${errorSummary(errors, FILTER_LABELS)}
<form method="get" action="${action}" class="stacked" aria-label="Filter the log">
${selectField({
  name: 'outcome',
  label: FILTER_LABELS.outcome,
  value: values.outcome,
  error: errors.outcome,
  options: [{ value: '', label: 'Any' }, ...OUTCOMES.map((o) => ({ value: o, label: o[0]!.toUpperCase() + o.slice(1) }))],
})}
${selectField({
  name: 'error',
  label: FILTER_LABELS.error,
  value: values.error,
  error: errors.error,
  options: [{ value: '', label: 'Any' }, ...Object.entries(ERROR_CODES).map(([code, words]) => ({ value: code, label: `${code} (${words})` }))],
})}
${textField({ name: 'type', label: FILTER_LABELS.type, value: values.type, hint: 'resource.action, resource.* or empty for any', error: errors.type })}
${textField({ name: 'event', label: FILTER_LABELS.event, value: values.event, hint: 'one event (X-Webhook-Id), or empty', error: errors.event })}
<div class="actions"><button type="submit">Apply filters</button><a class="button secondary" href="${action}">Clear filters</a></div>
</form>`;
}

function eventList(row: WebhookSubscription, page: DeliveryLogPage, base: string): Html {
  if (page.events.length === 0) return html`<p>No deliveries match.</p>`;
  return html`${page.events.map((event, index) => eventSection(row, event, index, base))}`;
}

function eventSection(row: WebhookSubscription, event: LoggedEvent, index: number, base: string): Html {
  const heading = `event-${index}`;
  const newest = event.attempts[0]!;
  return html`<section class="event" aria-labelledby="${heading}">
<h2 id="${heading}"><code>${event.resource}.${event.action}</code> <span class="muted">resource ${event.resourceId}</span></h2>
<p class="muted">Event <a href="${base}?event=${encodeURIComponent(event.webhookId)}" class="mono">${event.webhookId}</a>, ${event.attempts.length} ${event.attempts.length === 1 ? 'attempt' : 'attempts'} shown</p>
<div class="table-wrap"><table aria-label="Attempts of event ${event.webhookId}, newest first">
<thead><tr><th scope="col">Attempt</th><th scope="col">Time</th><th scope="col">Outcome</th><th scope="col">Response status</th><th scope="col">Error code</th><th scope="col">Duration</th><th scope="col">Details</th></tr></thead>
<tbody>
${event.attempts.map((a) => attemptRow(row, a))}
</tbody>
</table></div>
${row.enabled ? html`<div class="actions">${postButton({ action: `${attemptPath(row.id, newest.id)}/replay`, label: 'Replay', variant: 'secondary', hidden: { back: base }, context: `event ${event.webhookId}` })}</div>` : ''}
</section>`;
}

function attemptRow(row: WebhookSubscription, a: WebhookEvent): Html {
  return html`<tr class="attempt">
<td class="num">${a.attempt}</td>
<td>${timeText(a.created_at)}</td>
<td>${outcomeText(a)}</td>
<td class="num">${a.response_status ?? html`<span class="muted">none</span>`}</td>
<td>${a.error === null ? html`<span class="muted">none</span>` : html`<code>${a.error}</code>`}</td>
<td class="num">${a.duration_ms === null ? html`<span class="muted">none</span>` : `${a.duration_ms} ms`}</td>
<td><a href="${attemptPath(row.id, a.id)}">View attempt ${a.attempt}</a></td>
</tr>`;
}

/** The filter's query string with a new cursor. */
function nextQuery(query: ParsedLogQuery, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query.values)) if (value) params.set(name, value);
  params.set('cursor', cursor);
  return params.toString();
}

/**
 * One attempt in full: what was sent (pretty-printed JSON), what came back (status and the body
 * as stored, its first 4 KB), the error code and the duration.
 *
 * @example
 * attemptDetail(row, attempt, bullBoardJobUrl('jobs', attempt.job_id))
 */
export function attemptDetail(row: WebhookSubscription, a: WebhookEvent, jobHref?: string): Html {
  const base = deliveriesPath(row.id);
  return html`<p><a href="${base}">Delivery log of ${urlWithoutSecrets(row.url)}</a> · <a href="${base}?event=${encodeURIComponent(a.webhook_id)}">All attempts of this event</a></p>
<dl class="facts">
<dt>Event</dt><dd><code>${a.resource}.${a.action}</code>, resource <span class="mono">${a.resource_id}</span></dd>
<dt>Event id</dt><dd class="mono">${a.webhook_id}</dd>
<dt>Attempt</dt><dd>${a.attempt}</dd>
<dt>Time</dt><dd>${timeText(a.created_at)}</dd>
<dt>Outcome</dt><dd>${outcomeText(a)}</dd>
<dt>Response status</dt><dd>${a.response_status ?? html`<span class="muted">none (no response)</span>`}</dd>
<dt>Error code</dt><dd>${errorCodeText(a.error)}</dd>
<dt>Duration</dt><dd>${a.duration_ms === null ? html`<span class="muted">not sent</span>` : `${a.duration_ms} ms`}</dd>
<dt>Job</dt><dd>${a.job_id === null ? html`<span class="muted">none</span>` : html`<span class="mono">${a.job_id}</span>${jobHref ? html` <a href="${jobHref}">View job in BullBoard</a>` : ''}`}</dd>
</dl>
${row.enabled ? html`<div class="actions">${postButton({ action: `${attemptPath(row.id, a.id)}/replay`, label: 'Replay this event', variant: 'secondary', hidden: { back: attemptPath(row.id, a.id) } })}</div>` : ''}
<h2>Request body</h2>
<pre>${JSON.stringify(a.request_body, null, 2)}</pre>
<h2>Response body</h2>
${a.response_body === null ? html`<p class="muted">No response body.</p>` : html`<p class="muted">As stored: at most its first 4 KB.</p><pre>${a.response_body}</pre>`}`;
}
