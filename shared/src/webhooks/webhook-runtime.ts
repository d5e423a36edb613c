import type { SigningKey } from './signing-keys.js';
import type { WebhookSecretBox } from './secret-box.js';
import type { DeliveryResult } from './http-delivery.js';
import type { WebhookMetrics } from './webhook-metrics.js';

/** What `sendWebhook` needs from the worker process (`ctx.services.webhooks`). */
export interface WebhookRuntime {
  /** Keys to sign with: the current one, plus the next one during a rotation. */
  signingKeys: SigningKey[];
  /** Decrypts the subscriptions' Standard Webhooks secrets (SPEC §18) for the `webhook-signature` header. */
  secretBox: WebhookSecretBox;
  http: { post(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult> };
  /** Consecutive failed attempts that disable a subscription. */
  failureThreshold: number;
  /** Default age, in days, past which attempt rows are deleted. */
  eventRetentionDays: number;
  metrics: WebhookMetrics;
  /** Relays pending outbox rows now (e.g. the `webhookSubscription.disabled` event a breaker trip writes). */
  relay(): Promise<unknown>;
}
