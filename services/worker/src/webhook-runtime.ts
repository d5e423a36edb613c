import type { Kysely } from 'kysely';
import type { JobClient, jobHandlers } from '@jobs/shared';
import { createWebhookHttpClient, createWebhookMetrics, loadSigningKeys, loadWebhookSecretBox, relayOutbox, type WebhookRuntime } from '@jobs/shared/webhooks';
import type { Database } from '@jobs/shared/db';
import type { Config } from '@jobs/shared/config';
import type { Registry } from '@jobs/shared/metrics';

/**
 * What `sendWebhook` needs in this process: signing keys and the key that decrypts the
 * subscriptions' Standard Webhooks secrets (both generated once under DATA_DIR in local/test), one
 * keep-alive HTTP client with the SSRF guard, breaker settings, metrics, and a relay for the
 * events a breaker trip writes.
 */
export async function createWebhookRuntime(
  config: Config,
  deps: { db: Kysely<Database>; jobs: JobClient<typeof jobHandlers>; metrics: Registry },
): Promise<WebhookRuntime & { close(): Promise<void> }> {
  const keys = await loadSigningKeys(config);
  const secretBox = await loadWebhookSecretBox(config);
  const http = createWebhookHttpClient({ timeoutMs: config.webhook.timeoutMs, allowPrivateNetworks: config.webhook.allowPrivateNetworks });
  return {
    signingKeys: keys.all,
    secretBox,
    http,
    failureThreshold: config.webhook.failureThreshold,
    eventRetentionDays: config.webhook.eventRetentionDays,
    metrics: createWebhookMetrics(deps.metrics),
    relay: () => relayOutbox(deps.db, (payload, options) => deps.jobs.enqueueJob('sendWebhook', payload, options)),
    close: () => http.close(),
  };
}
