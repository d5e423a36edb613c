import { z } from 'zod';

/**
 * The `sendWebhook` payload. The seed's four fields stay as they were; the rest are set by the
 * outbox relay (and default sensibly for a direct `enqueueJob('sendWebhook', …)`):
 * `webhookId` is the event id every attempt and replay carries, `resource` names what changed.
 */
export const sendWebhookPayloadSchema = z.object({
  subscriptionId: z.uuid(),
  action: z.string().min(1).max(64),
  resourceId: z.string().min(1).max(200),
  data: z.record(z.string(), z.unknown()),
  resource: z.string().min(1).max(64).optional(),
  webhookId: z.string().min(1).max(200).optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});
export type SendWebhookPayload = z.infer<typeof sendWebhookPayloadSchema>;
