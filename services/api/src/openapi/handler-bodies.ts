import type { HandlerMap } from '@jobs/shared';
import type { OpenApiDocument, SchemaObject } from './document-types.js';
import { payloadJsonSchema } from './payload-json-schema.js';

/**
 * The request bodies that name a handler and carry its payload. Their zod validators take any
 * handler name and any payload (the handler's own schema checks it, naming `body.payload.x`), so
 * the generated document types them once per handler here, from the deployment's handler map.
 */
const ENQUEUE = 'EnqueueJobRequest'; // POST /api/admin/job, and each of POST /api/admin/job/batch's jobs (a $ref)
const CREATE_CRON = 'CreateCronJobRequest';
const UPDATE_CRON = 'UpdateCronJobRequest';

const ref = (name: string): SchemaObject => ({ $ref: `#/components/schemas/${name}` });

interface HandlerPayload {
  handler: string;
  /** The component name suffix of this handler's variants (the name, made safe for a component key). */
  key: string;
  payload: SchemaObject;
  /** The payload as a cron row stores it: always a JSON object. */
  cronPayload: SchemaObject;
  required: boolean;
}

/**
 * Replaces the enqueue and cron bodies of `doc` with unions discriminated by `handler`, one
 * variant per handler a client may name (internal ones are left out), each with that handler's
 * payload schema (`EchoPayload`, …) — so a client generated from the document knows each
 * payload. With no such handler the open bodies stay.
 *
 * @example
 * typeBodiesPerHandler(doc, jobHandlers);
 * doc.components.schemas.EnqueueJobRequest; // { oneOf: [{ $ref: '#/components/schemas/EnqueueJobRequest_echo' }], discriminator: { propertyName: 'handler', mapping: { echo: … } } }
 */
export function typeBodiesPerHandler(doc: OpenApiDocument, handlers: HandlerMap): void {
  const schemas = doc.components?.schemas as Record<string, SchemaObject> | undefined;
  if (!schemas) return;
  const named = Object.entries(handlers).filter(([, def]) => def.internal !== true);
  if (named.length === 0) return;
  const payloads = named.map(([handler, def]) => registerPayload(schemas, handler, payloadJsonSchema(handler, def)));

  const enqueue = schemas[ENQUEUE] && hoistOptions(schemas, schemas[ENQUEUE]);
  if (enqueue) {
    schemas[ENQUEUE] = discriminatedUnion(schemas, ENQUEUE, payloads, (p) => variant(enqueue, p.handler, p.payload, p.required), enqueue.description);
  }
  const create = schemas[CREATE_CRON];
  if (create) {
    schemas[CREATE_CRON] = discriminatedUnion(schemas, CREATE_CRON, payloads, (p) => variant(withoutDefault(create), p.handler, p.cronPayload, false), create.description);
  }
  const update = schemas[UPDATE_CRON];
  if (update) schemas[UPDATE_CRON] = updateUnion(schemas, update, payloads);
}

/** `{ oneOf, discriminator }` over one `<component>_<handler>` variant per handler. */
function discriminatedUnion(
  schemas: Record<string, SchemaObject>,
  component: string,
  payloads: HandlerPayload[],
  build: (p: HandlerPayload) => SchemaObject,
  description: string | undefined,
): SchemaObject {
  const variants = payloads.map((p) => {
    const name = uniqueName(schemas, `${component}_${p.key}`);
    schemas[name] = build(p);
    return [p.handler, `#/components/schemas/${name}`] as const;
  });
  return {
    ...(description ? { description } : {}),
    oneOf: variants.map(([, target]) => ({ $ref: target })),
    // fromEntries defines own properties: a handler named `__proto__` is a key, not a prototype.
    discriminator: { propertyName: 'handler', mapping: Object.fromEntries(variants) },
  };
}

/**
 * A PATCH names the handler or keeps the stored one: one variant per handler (handler required,
 * its payload optional) and one without `handler` whose payload is checked against the stored
 * handler's. `additionalProperties: false` keeps them exclusive, so it is a plain `oneOf` (a
 * discriminator needs the property in every variant).
 */
function updateUnion(schemas: Record<string, SchemaObject>, update: SchemaObject, payloads: HandlerPayload[]): SchemaObject {
  const oneOf = payloads.map((p) => {
    const name = uniqueName(schemas, `${UPDATE_CRON}_${p.key}`);
    schemas[name] = variant(update, p.handler, p.cronPayload, false);
    return ref(name);
  });
  const { handler: _handler, ...kept } = update.properties ?? {};
  const sameHandler = uniqueName(schemas, `${UPDATE_CRON}_sameHandler`);
  schemas[sameHandler] = {
    ...update,
    description: 'Fields to change, keeping the stored handler; a payload is checked against its schema',
    properties: kept,
    required: (update.required ?? []).filter((field) => field !== 'handler'),
  };
  return { ...(update.description ? { description: update.description } : {}), oneOf: [...oneOf, ref(sameHandler)] };
}

/** The enqueue options as their own component, so the variants refer to one `EnqueueOptions` instead of holding a copy each. */
function hoistOptions(schemas: Record<string, SchemaObject>, enqueue: SchemaObject): SchemaObject {
  const options = enqueue.properties?.options as SchemaObject | undefined;
  if (!options || options.$ref) return enqueue;
  const name = uniqueName(schemas, 'EnqueueOptions');
  schemas[name] = options;
  return { ...enqueue, properties: { ...enqueue.properties, options: ref(name) } };
}

/** `base` with `handler` fixed to one name and `payload` that handler's schema. */
function variant(base: SchemaObject, handler: string, payload: SchemaObject, payloadRequired: boolean): SchemaObject {
  const handlerProperty = base.properties?.handler as SchemaObject | undefined;
  const required = new Set([...(base.required ?? []), 'handler', ...(payloadRequired ? ['payload'] : [])]);
  return {
    ...base,
    title: handler,
    properties: {
      ...base.properties,
      handler: { type: 'string', const: handler, ...(handlerProperty?.description ? { description: handlerProperty.description } : {}) },
      payload,
    },
    required: [...required],
  };
}

/** The create body's `payload: {}` default fits few handlers' schemas: a variant shows none. */
function withoutDefault(create: SchemaObject): SchemaObject {
  const payload = create.properties?.payload as SchemaObject | undefined;
  if (!payload) return create;
  const { default: _default, ...rest } = payload;
  return { ...create, properties: { ...create.properties, payload: rest } };
}

/**
 * Adds `handler`'s payload schema as a component (`EchoPayload`), its `$defs` beside it, and
 * answers how the variants refer to it.
 */
function registerPayload(schemas: Record<string, SchemaObject>, handler: string, rendered: ReturnType<typeof payloadJsonSchema>): HandlerPayload {
  // Names are taken one at a time (a placeholder holds each), so two made-safe names never collide.
  const reserve = (wanted: string) => {
    const name = uniqueName(schemas, wanted);
    schemas[name] = {};
    return name;
  };
  const component = reserve(`${pascal(handler)}Payload`);
  const defNames = new Map(Object.keys(rendered.defs).map((def) => [def, reserve(`${component}_${safe(def)}`)]));
  const relocate = (schema: SchemaObject) => rewriteRefs(schema, (target) => (target === '#' ? `#/components/schemas/${component}` : target.startsWith('#/$defs/') ? `#/components/schemas/${defNames.get(target.slice('#/$defs/'.length)) ?? ''}` : target));
  schemas[component] = { title: `${handler} payload`, ...relocate(rendered.schema) };
  for (const [def, schema] of Object.entries(rendered.defs)) schemas[defNames.get(def)!] = relocate(schema);

  const payload = ref(component);
  const isObject = rendered.schema.type === 'object';
  // A cron row's payload is a JSON object (jsonb), whatever else the handler would take.
  const cronPayload: SchemaObject = isObject ? payload : { allOf: [payload, { type: 'object' }] };
  return { handler, key: safe(handler), payload, cronPayload, required: rendered.required };
}

/** A copy of `schema` with every `$ref` passed through `to`. */
function rewriteRefs(schema: SchemaObject, to: (target: string) => string): SchemaObject {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' ? to(inner) : walk(inner)]));
  };
  return walk(schema) as SchemaObject;
}

/** Component keys must match `^[a-zA-Z0-9._-]+$`; a handler name may hold anything. */
const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
const pascal = (name: string) => safe(name).replace(/^[a-z]/, (c) => c.toUpperCase());

/** `wanted`, or `wanted_2`, `wanted_3`… when another schema (or another handler's made-safe name) has it. */
function uniqueName(schemas: Record<string, SchemaObject>, wanted: string): string {
  if (!Object.hasOwn(schemas, wanted)) return wanted;
  for (let n = 2; ; n++) if (!Object.hasOwn(schemas, `${wanted}_${n}`)) return `${wanted}_${n}`;
}
