import type { HandlerRegistry } from '../types.js';
import { echo, type EchoPayload } from './echo.js';
import { sendWebhook, type SendWebhookPayload } from './send-webhook.js';
import { webhookEventRetention, type WebhookEventRetentionPayload } from './webhook-event-retention.js';

/**
 * The built-in registry (seed "Register in Index"). To add a handler: define it in its own
 * file with `makeJob` (or a sibling pattern), then add it to the three places below. Leaving
 * one out, or giving it another payload type, is a compile error.
 */
export const JobHandlerName = {
  echo: 'echo',
  sendWebhook: 'sendWebhook',
  webhookEventRetention: 'webhookEventRetention',
} as const;
export type JobHandlerName = (typeof JobHandlerName)[keyof typeof JobHandlerName];

export type JobPayloads = {
  echo: EchoPayload;
  sendWebhook: SendWebhookPayload;
  webhookEventRetention: WebhookEventRetentionPayload;
};

export const jobHandlers = {
  echo,
  sendWebhook,
  webhookEventRetention,
} satisfies HandlerRegistry<JobPayloads> & Record<JobHandlerName, unknown>;
