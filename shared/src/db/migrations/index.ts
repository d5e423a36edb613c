import type { Migration } from 'kysely';
import { initial } from './0001_initial.js';
import { outboxWebhookId } from './0002_outbox_webhook_id.js';
import { webhookSubscriptionSecret } from './0003_webhook_subscription_secret.js';
import { outboxTraceContext } from './0004_outbox_trace_context.js';
import { webhookEventConsoleIndexes } from './0005_webhook_event_console_indexes.js';

/**
 * All migrations, keyed by name; Kysely applies them in name order. A static map rather than
 * `FileMigrationProvider` so the compiled `dist/` and bundlers work without reading the folder.
 * Append new entries; never rename or edit an applied one.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_outbox_webhook_id': outboxWebhookId,
  '0003_webhook_subscription_secret': webhookSubscriptionSecret,
  '0004_outbox_trace_context': outboxTraceContext,
  '0005_webhook_event_console_indexes': webhookEventConsoleIndexes,
};
