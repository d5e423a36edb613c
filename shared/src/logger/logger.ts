import { createRequire } from 'node:module';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino masks in every log line. Secrets travel in headers, config objects and job
 * payloads; none of them may reach a log.
 */
export const redactPaths = [
  'authorization',
  'password',
  'secret',
  'token',
  'signingKey',
  'privateKey',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.signingKey',
  '*.privateKey',
  '*.jwtSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'config.auth',
  'config.webhook.signingKey',
  'config.webhook.nextSigningKey',
  // Subscription secrets (SPEC §18): the key that encrypts them, and a row's ciphertexts if one is ever logged whole.
  'config.webhook.secretKey',
  'secretKey',
  '*.secretKey',
  'secret_ciphertext',
  'previous_secret_ciphertext',
  '*.secret_ciphertext',
  '*.previous_secret_ciphertext',
  'config.bullBoard.password',
];

export interface LoggerOptions {
  level?: string;
  /** Pretty, human-readable output (local on a TTY). Falls back to JSON if pino-pretty is absent. */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false; // production images ship without dev dependencies
  }
}

/**
 * The root logger of a process.
 *
 * @example
 * const log = createLogger({ level: 'info', pretty: config.isLocal && process.stdout.isTTY });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid },
    mixin: traceIds,
    // pino's default merge copies every line's fields into the mixin's object: skip it when there is nothing to add.
    mixinMergeStrategy: (fields: object, ids: object) => (ids === NO_FIELDS ? fields : Object.assign(ids, fields)),
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty && prettyAvailable()) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { messageKey: 'msg', ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(base);
}

const NO_FIELDS = Object.freeze({});

/**
 * `trace_id`/`span_id` of the active span (SPEC §15), so a log line leads to its trace. pino calls
 * it for every line that is written (not for lines below the level); with tracing off the active
 * span is always absent and it returns one shared (frozen) empty object, which the merge skips.
 */
function traceIds(): object {
  const span = trace.getActiveSpan();
  if (!span) return NO_FIELDS;
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : NO_FIELDS;
}

/**
 * A child logger tagged with the seed's scope id, e.g. `[worker][sendWebhook:42]`.
 *
 * @example
 * scopedLogger(log, 'worker', `${handlerName}:${jobId}`).info('started');
 */
export function scopedLogger(parent: Logger, service: string, id?: string): Logger {
  return parent.child({ scope: id === undefined ? `[${service}]` : `[${service}][${id}]` });
}
