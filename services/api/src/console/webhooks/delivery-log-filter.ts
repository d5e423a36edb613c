import { eventPatternSchema, type WebhookErrorCode } from '@jobs/shared/webhooks';
import { decodeCursor, type KeysetPosition } from '../../cron/pagination.js';

/** What an attempt's outcome can be: sent and 2xx, sent and not, or not sent (subscription disabled). */
export const OUTCOMES = ['delivered', 'failed', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Every error code an attempt row can carry, in words for the log's filter and table. A `Record`
 * over the delivery's own `WebhookErrorCode` type, so a code added there fails to compile here
 * until it has its words.
 */
export const ERROR_CODES: Readonly<Record<WebhookErrorCode | 'skipped', string>> = {
  timeout: 'timed out',
  dns: 'host name not found',
  refused: 'connection refused',
  reset: 'connection reset',
  tls: 'TLS handshake failed',
  blocked_address: 'private or blocked address',
  http_3xx: 'redirect (not followed)',
  http_4xx: 'HTTP 4xx answer',
  http_5xx: 'HTTP 5xx answer',
  invalid_url: 'invalid URL',
  network: 'network error',
  skipped: 'not sent: subscription disabled',
};
export type ErrorCode = keyof typeof ERROR_CODES;

/** The delivery log's filters; every field optional (absent = any). */
export interface DeliveryLogFilter {
  outcome?: Outcome;
  error?: ErrorCode;
  /** The event's resource, and its action unless the filter was `resource.*`. */
  resource?: string;
  action?: string;
  /** Only the attempts of one event (its `X-Webhook-Id`). */
  webhookId?: string;
}

/** The log's GET query as typed, with what was wrong in it, by field name. */
export interface ParsedLogQuery {
  filter: DeliveryLogFilter;
  after: KeysetPosition | undefined;
  /** The raw values, to put back into the filter form. */
  values: Record<'outcome' | 'error' | 'type' | 'event', string>;
  errors: Partial<Record<'outcome' | 'error' | 'type' | 'event' | 'cursor', string>>;
}

const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Reads the delivery log's filter form (`outcome`, `error`, `type` as `resource.action`,
 * `resource.*` or `*`, `event` = one event id, `cursor`). An unknown value is reported by field,
 * so the page can answer 400 with the message beside that field rather than guess.
 *
 * @example
 * parseLogQuery({ outcome: 'failed', type: 'cronJob.*' }).filter; // { outcome: 'failed', resource: 'cronJob' }
 */
export function parseLogQuery(query: Record<string, string | undefined>): ParsedLogQuery {
  const values = { outcome: query.outcome ?? '', error: query.error ?? '', type: (query.type ?? '').trim(), event: (query.event ?? '').trim() };
  const parsed: ParsedLogQuery = { filter: {}, after: undefined, values, errors: {} };
  if (values.outcome) {
    if (isOutcome(values.outcome)) parsed.filter.outcome = values.outcome;
    else parsed.errors.outcome = `must be one of ${OUTCOMES.join(', ')}`;
  }
  if (values.error) {
    if (isErrorCode(values.error)) parsed.filter.error = values.error;
    else parsed.errors.error = 'not an error code attempts are recorded with';
  }
  if (values.type && values.type !== '*') {
    if (eventPatternSchema.safeParse(values.type).success) {
      const [resource, action] = values.type.split('.') as [string, string];
      parsed.filter.resource = resource;
      if (action !== '*') parsed.filter.action = action;
    } else {
      parsed.errors.type = 'must be "resource.action" (such as cronJob.create), "resource.*" or "*"';
    }
  }
  if (values.event) {
    if (WEBHOOK_ID.test(values.event)) parsed.filter.webhookId = values.event;
    else parsed.errors.event = 'must be an event id such as evt_3f9c…';
  }
  if (query.cursor) {
    parsed.after = decodeCursor(query.cursor);
    if (!parsed.after) parsed.errors.cursor = 'not a position in this log; start again from the first page';
  }
  return parsed;
}

const isOutcome = (value: string): value is Outcome => (OUTCOMES as readonly string[]).includes(value);
const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(ERROR_CODES, value);
