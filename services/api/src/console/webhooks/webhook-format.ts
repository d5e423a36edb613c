import { html } from 'hono/html';
import type { WebhookEvent, WebhookSubscription } from '@jobs/shared/db';
import type { Html } from '../layout.js';
import { ERROR_CODES, type ErrorCode } from './delivery-log-filter.js';
import type { DeliveryStats } from './delivery-stats.js';

/** Where the webhook pages live, so links are built in one place. */
export const WEBHOOKS_PATH = '/console/webhooks';
export const subscriptionPath = (id: string) => `${WEBHOOKS_PATH}/${encodeURIComponent(id)}`;
export const deliveriesPath = (id: string) => `${subscriptionPath(id)}/deliveries`;
export const attemptPath = (subscriptionId: string, attemptId: string) => `${deliveriesPath(subscriptionId)}/${encodeURIComponent(attemptId)}`;

/**
 * A time as the console shows it: UTC to the second, machine-readable in `datetime`.
 *
 * @example
 * timeText(new Date('2024-05-01T12:00:00.123Z')); // <time datetime="2024-05-01T12:00:00.123Z">2024-05-01 12:00:00 UTC</time>
 */
export function timeText(at: Date): Html {
  return html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 19).replace('T', ' ')} UTC</time>`;
}

/** Enabled, or disabled with the reason the breaker (or an operator) gave. */
export function stateText(row: Pick<WebhookSubscription, 'enabled' | 'disabled_reason' | 'disabled_at'>): Html {
  if (row.enabled) return html`<span class="badge ok">Enabled</span>`;
  return html`<span class="badge bad">Disabled</span>${row.disabled_reason ? html` <span>${row.disabled_reason}</span>` : ''}${
    row.disabled_at ? html` <span class="muted">since ${timeText(row.disabled_at)}</span>` : ''
  }`;
}

/** "75 % (3 of 4)", or a plain "no attempts" when nothing was sent in the window. */
export function rateText(stats: DeliveryStats | undefined): Html {
  if (!stats || stats.successRate === null) return html`<span class="muted">no attempts</span>`;
  const percent = Math.floor(stats.successRate * 1000) / 10;
  return html`${percent} % <span class="muted">(${stats.delivered} of ${stats.attempts})</span>`;
}

/** The newest failure: its time, error code and HTTP status, or "none". */
export function lastFailureText(stats: DeliveryStats | undefined): Html {
  const failure = stats?.lastFailure;
  if (!failure) return html`<span class="muted">none</span>`;
  return html`${timeText(failure.at)}<br>${errorCodeText(failure.error)}${failure.responseStatus !== null ? html` (HTTP ${failure.responseStatus})` : ''}`;
}

/** An error code in code and in words (`http_5xx`: HTTP 5xx answer); unknown codes as they are. */
export function errorCodeText(code: string | null): Html {
  if (code === null) return html`<span class="muted">none</span>`;
  const words = Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
  return html`<code>${code}</code>${words ? html` <span class="muted">${words}</span>` : ''}`;
}

/** Delivered / Failed / Skipped, as a badge. */
export function outcomeText(attempt: Pick<WebhookEvent, 'success' | 'error'>): Html {
  if (attempt.success) return html`<span class="badge ok">Delivered</span>`;
  if (attempt.error === 'skipped') return html`<span class="badge off">Skipped</span>`;
  return html`<span class="badge bad">Failed</span>`;
}
