import { Counter, type Registry } from 'prom-client';

/** How one delivery attempt ended: `delivered`, `skipped`, or the failure's error code. */
export type WebhookAttemptOutcome = string;

export interface WebhookMetrics {
  attempt(outcome: WebhookAttemptOutcome): void;
  breakerTrip(): void;
}

export const noWebhookMetrics: WebhookMetrics = { attempt: () => undefined, breakerTrip: () => undefined };

/** `webhook_attempts_total{outcome}` and `webhook_breaker_trips_total` on `registry`. */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({ name: 'webhook_attempts_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] });
  const trips = new Counter({ name: 'webhook_breaker_trips_total', help: 'Subscriptions disabled by the circuit breaker', registers: [registry] });
  return { attempt: (outcome) => attempts.inc({ outcome }), breakerTrip: () => trips.inc() };
}
