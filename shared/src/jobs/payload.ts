import type { ZodType } from 'zod';
import { JobPayloadError, UnknownHandlerError } from './errors.js';
import type { AnyJobDefinition, HandlerMap } from './types.js';

/**
 * The definition registered under `name`, or {@link UnknownHandlerError}.
 * `Object.hasOwn` keeps names like `constructor` or `__proto__` from resolving to prototype members.
 */
export function resolveHandler(handlers: HandlerMap, name: string): AnyJobDefinition {
  const def = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  if (!def) throw new UnknownHandlerError(name, Object.keys(handlers));
  return def;
}

/**
 * Checks `payload` against the handler's schema and returns the parsed value (defaults
 * applied). Throws {@link JobPayloadError} whose issues name each wrong field as `payload.<path>`.
 * Without a schema the payload must still be JSON-serialisable data, as it goes to Redis.
 */
export function parsePayload<P>(handler: string, schema: ZodType<P> | undefined, payload: unknown): P {
  if (!schema) {
    if (payload === undefined) {
      throw new JobPayloadError(handler, [{ path: 'payload', message: 'is required' }]);
    }
    return payload as P;
  }
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new JobPayloadError(
    handler,
    result.error.issues.map((issue) => ({
      path: ['payload', ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
}
