// @jobs/shared/webhooks: outbox, relay, delivery, signing and secrets (SPEC §8, §18). Internal to the services, except verifyWebhook (also at the root).
export * from './webhook-event.js';
export * from './outbox.js';
export * from './outbox-relay.js';
export * from './send-webhook-payload.js';
export * from './webhook-metrics.js';
export * from './webhook-runtime.js';
export * from './signing-keys.js';
export * from './signature.js';
export * from './secret-box.js';
export * from './secret-key-text.js';
export * from './subscription-secret.js';
export * from './verify-webhook.js';
export * from './address-guard.js';
export * from './http-delivery.js';
export * from './outbox-relay-loop.js';
