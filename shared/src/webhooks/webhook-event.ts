import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must start with a letter and use letters, digits, _ or - (at most 64)');

/**
 * A change other systems may subscribe to: `{resource}.{action}`, e.g. `cronJob.create`.
 * The API's own resources use `create`/`update`/`delete`; published events may use any action.
 */
export const resourceEventSchema = z
  .object({
    resource: name,
    action: name,
    resourceId: z.string().min(1).max(200),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ResourceEventInput = z.input<typeof resourceEventSchema>;
export type ResourceEvent = z.output<typeof resourceEventSchema>;

/** `cronJob.create` */
export const eventType = (resource: string, action: string): string => `${resource}.${action}`;

/** An `events` entry of a subscription: `*`, `resource.*` or `resource.action`. */
export const eventPatternSchema = z
  .string()
  .regex(/^(\*|[A-Za-z][A-Za-z0-9_-]{0,63}\.(\*|[A-Za-z][A-Za-z0-9_-]{0,63}))$/, 'must be "*", "resource.*" or "resource.action"');

/** The patterns a subscription may hold that match this event; the relay asks Postgres for any overlap. */
export function patternsMatching(resource: string, action: string): string[] {
  return ['*', `${resource}.*`, eventType(resource, action)];
}

/** True when one of `patterns` matches `resource.action`. */
export function subscriptionMatches(patterns: readonly string[], resource: string, action: string): boolean {
  const accepted = patternsMatching(resource, action);
  return patterns.some((p) => accepted.includes(p));
}

/**
 * A new event id, sent as `X-Webhook-Id` and as the body's `id` on every attempt: `evt_` and
 * 128 random bits in hex, drawn once when the outbox row is written and stored with it, so it
 * stays the same on every retry and replay and is not a counter anyone could guess (SPEC §14).
 *
 * @example
 * newWebhookId(); // 'evt_3f9c1e0b7a4d52e88c01f6b2d9a7e415'
 */
export const newWebhookId = (): string => `evt_${randomBytes(16).toString('hex')}`;

/** What {@link newWebhookId} makes (rows written before ids were random carry `evt_<outbox id>`). */
export const WEBHOOK_ID_PATTERN = /^evt_[0-9a-f]{32}$/;

/**
 * A subscription URL as logs, error messages and other subscribers (`webhookSubscription.*`
 * events) may show it: scheme, host and port only. Credentials, query and fragment go, and so
 * does the whole path: many receivers carry their secret there (Slack
 * `/services/T…/B…/<secret>`, Discord `/api/webhooks/<id>/<token>`, `webhook.site/<uuid>`), even
 * in the first segment, so no part of it is safe to keep. What remains is still a URL; the
 * subscription id, logged next to it, tells rows apart.
 *
 * @example
 * urlWithoutSecrets('https://hooks.slack.com/services/T0/B0/XXXX?x=1'); // 'https://hooks.slack.com'
 * urlWithoutSecrets('http://user:pw@127.0.0.1:9000/in#f');             // 'http://127.0.0.1:9000'
 */
export function urlWithoutSecrets(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '[invalid url]';
  }
}
