import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Any value a jsonb column can hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON object. jsonb columns are typed as objects because `pg` serialises object parameters
 * with JSON.stringify, but turns JS arrays into Postgres array literals (which jsonb rejects).
 */
export type JsonObject = { [key: string]: JsonValue };

/** `timestamptz not null default now()`: read as Date, optional on insert. */
type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** Nullable `timestamptz`. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** A column with a database default: always present on read, optional on insert. */
type WithDefault<T> = ColumnType<T, T | undefined, T>;

/** `cron_job`: one row per scheduled job; `job_id` is the BullMQ job scheduler id. */
export interface CronJobTable {
  id: Generated<string>;
  job_id: string;
  name: string;
  /** Cron expression, evaluated in UTC. */
  pattern: string;
  handler: string;
  payload: WithDefault<JsonObject>;
  enabled: WithDefault<boolean>;
  max_attempts: WithDefault<number>;
  backoff_ms: WithDefault<number>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** `webhook_subscription`: where to deliver which events. */
export interface WebhookSubscriptionTable {
  id: Generated<string>;
  url: string;
  /** Event patterns such as `cronJob.create`, `cronJob.*` or `*`. */
  events: string[];
  description: string | null;
  enabled: WithDefault<boolean>;
  consecutive_failures: WithDefault<number>;
  disabled_at: NullableTimestamp;
  disabled_reason: string | null;
  /**
   * The Standard Webhooks secret (`whsec_…`, SPEC §18), AES-256-GCM encrypted under
   * `WEBHOOK_SECRET_KEY` (see `WebhookSecretBox`). Null only on a row from before migration 0003
   * until its first delivery or secret read gives it one (`ensureSubscriptionSecret`).
   */
  secret_ciphertext: string | null;
  /** The secret before the last rotation, still signed with until `secret_rotated_at` + 24 h. */
  previous_secret_ciphertext: string | null;
  secret_rotated_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: CreatedAt;
}

/** `webhook_event`: one row per delivery attempt. */
export interface WebhookEventTable {
  id: Generated<string>;
  subscription_id: string;
  /** Stable across the retries of one delivery. */
  webhook_id: string;
  job_id: string | null;
  attempt: number;
  action: string;
  resource: string;
  resource_id: string;
  request_body: JsonObject;
  response_status: number | null;
  /** First 4 KB of the response. */
  response_body: string | null;
  /** An error code such as `timeout`, `dns`, `refused`, `http_5xx`, `blocked_address`. */
  error: string | null;
  duration_ms: number | null;
  success: boolean;
  created_at: CreatedAt;
}

/** `webhook_outbox`: changes waiting to be relayed to subscribers (written in the same transaction). */
export interface WebhookOutboxTable {
  /** bigserial: `pg` returns int8 as a string to avoid precision loss. */
  id: Generated<string>;
  resource: string;
  action: string;
  resource_id: string;
  data: JsonObject;
  occurred_at: CreatedAt;
  relayed_at: NullableTimestamp;
  /** The event id sent as `X-Webhook-Id`: random, drawn when the row is written (`newWebhookId`). */
  webhook_id: WithDefault<string>;
  /** The mutation's W3C trace context (`{traceparent, tracestate?}`), null when tracing was off. */
  trace_context: WithDefault<JsonObject | null>;
}

/** The Kysely database type for `Kysely<Database>`. */
export interface Database {
  cron_job: CronJobTable;
  webhook_subscription: WebhookSubscriptionTable;
  webhook_event: WebhookEventTable;
  webhook_outbox: WebhookOutboxTable;
}

export type CronJob = Selectable<CronJobTable>;
export type NewCronJob = Insertable<CronJobTable>;
export type CronJobUpdate = Updateable<CronJobTable>;

export type WebhookSubscription = Selectable<WebhookSubscriptionTable>;
export type NewWebhookSubscription = Insertable<WebhookSubscriptionTable>;
export type WebhookSubscriptionUpdate = Updateable<WebhookSubscriptionTable>;

export type WebhookEvent = Selectable<WebhookEventTable>;
export type NewWebhookEvent = Insertable<WebhookEventTable>;
export type WebhookEventUpdate = Updateable<WebhookEventTable>;

export type WebhookOutboxEntry = Selectable<WebhookOutboxTable>;
export type NewWebhookOutboxEntry = Insertable<WebhookOutboxTable>;
export type WebhookOutboxEntryUpdate = Updateable<WebhookOutboxTable>;
