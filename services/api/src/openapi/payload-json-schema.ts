import { toJSONSchema } from 'zod';
import type { AnyJobDefinition } from '@jobs/shared';
import type { SchemaObject } from './document-types.js';

/** A handler's payload as the OpenAPI document shows it. */
export interface PayloadJsonSchema {
  schema: SchemaObject;
  /** Sub-schemas the payload refers to (`$defs` of a recursive zod schema), to hoist into components. */
  defs: Record<string, SchemaObject>;
  /** False when the handler accepts a missing payload (no schema, or one that takes `undefined`). */
  required: boolean;
}

/**
 * The JSON Schema of `def`'s payload as a client sends it (`io: 'input'`, so defaults are
 * optional and transforms show their input), or a described open schema when zod cannot render
 * it: a handler's odd schema must never break the whole document.
 *
 * @example
 * payloadJsonSchema('echo', jobHandlers.echo).schema; // { type: 'object', properties: { message: …, delayMs: … }, required: ['message'] }
 */
export function payloadJsonSchema(name: string, def: AnyJobDefinition): PayloadJsonSchema {
  if (!def.schema) return { schema: { description: `any JSON value: handler "${name}" declares no payload schema` }, defs: {}, required: false };
  const required = !def.schema.safeParse(undefined).success;
  try {
    const { $schema: _dialect, $defs, ...schema } = toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' }) as SchemaObject & { $schema?: string; $defs?: Record<string, SchemaObject> };
    return { schema, defs: $defs ?? {}, required };
  } catch {
    return {
      schema: { type: 'object', additionalProperties: true, description: `handler "${name}" checks its payload with a schema that JSON Schema cannot express; see the handler's documentation` },
      defs: {},
      required,
    };
  }
}
