import type { JsonObject, WebhookEvent, WebhookSubscription } from '@jobs/shared/db';

/** A `webhook_subscription` row as the API shows it (camelCase, ISO timestamps). */
export interface WebhookSubscriptionView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Failed attempts in a row; the circuit breaker disables the subscription at the threshold. */
  consecutiveFailures: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A `webhook_event` row (one delivery attempt) as the API shows it. */
export interface WebhookEventView {
  id: string;
  webhookId: string;
  jobId: string | null;
  attempt: number;
  resource: string;
  action: string;
  resourceId: string;
  success: boolean;
  /** `timeout`, `dns`, `refused`, `tls`, `http_4xx`, `http_5xx`, `blocked_address`, … or `skipped`. */
  error: string | null;
  responseStatus: number | null;
  responseBody: string | null;
  durationMs: number | null;
  createdAt: string;
  /** The JSON body that was (or, when skipped, would have been) POSTed. */
  requestBody: JsonObject;
}

/**
 * The API's view of a subscription; also the `data` of its `webhookSubscription.*` events.
 *
 * @example
 * c.json(toSubscriptionView(row), 200);
 */
export function toSubscriptionView(row: WebhookSubscription): WebhookSubscriptionView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    consecutiveFailures: row.consecutive_failures,
    disabledAt: row.disabled_at?.toISOString() ?? null,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * The API's view of one attempt row.
 *
 * @example
 * c.json({ items: rows.map(toEventView), nextCursor }, 200);
 */
export function toEventView(row: WebhookEvent): WebhookEventView {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    jobId: row.job_id,
    attempt: row.attempt,
    resource: row.resource,
    action: row.action,
    resourceId: row.resource_id,
    success: row.success,
    error: row.error,
    responseStatus: row.response_status,
    responseBody: row.response_body,
    durationMs: row.duration_ms,
    createdAt: row.created_at.toISOString(),
    requestBody: row.request_body,
  };
}
