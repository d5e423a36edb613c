import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { openApiTestHandlers, PUBLIC_TEST_HANDLERS } from './helpers/openapi-handlers.js';

type Schema = {
  $ref?: string;
  type?: string;
  const?: unknown;
  title?: string;
  description?: string;
  oneOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping: Record<string, string> };
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  additionalProperties?: boolean | Schema;
};
type Response = { description: string; content?: Record<string, { schema: Schema }>; headers?: Record<string, unknown> };
type Operation = {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  tags?: string[];
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
};
type Document = {
  openapi: string;
  info: { license?: { name: string } };
  servers?: Array<{ url: string }>;
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })));
const bodySchema = (op: Operation | undefined) => op?.requestBody?.content['application/json']?.schema;

describe('OpenAPI document: bodies typed per handler', () => {
  let t: TestApp;
  let doc: Document;
  const schemas = () => doc.components.schemas;
  /** The schema a `$ref` names. */
  const deref = (schema: Schema | undefined): Schema => {
    const name = schema?.$ref?.replace('#/components/schemas/', '');
    expect(name && schemas()[name], `${schema?.$ref} resolves`).toBeTruthy();
    return schemas()[name!]!;
  };

  beforeAll(async () => {
    t = await createTestApp({ handlers: openApiTestHandlers });
    const res = await t.call('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    doc = (await res.json()) as Document;
  });
  afterAll(() => t.close());

  it('POST /api/admin/job takes a union discriminated by handler over exactly the non-internal handlers', () => {
    const body = deref(bodySchema(doc.paths['/api/admin/job']!.post));
    expect(body.discriminator?.propertyName).toBe('handler');
    expect(Object.keys(body.discriminator!.mapping).sort()).toEqual([...PUBLIC_TEST_HANDLERS].sort());
    expect(body.oneOf).toHaveLength(PUBLIC_TEST_HANDLERS.length);
    for (const [handler, target] of Object.entries(body.discriminator!.mapping)) {
      expect(body.oneOf).toContainEqual({ $ref: target });
      const variant = deref({ $ref: target });
      expect(variant.properties!.handler).toMatchObject({ type: 'string', const: handler });
      expect(variant.required).toContain('handler');
      expect(variant.additionalProperties).toBe(false);
      expect(deref(variant.properties!.options)).toMatchObject({ type: 'object', properties: { delay: { type: 'integer' }, dedupeKey: { type: 'string' } } });
    }
    for (const internal of ['sendWebhook', 'webhookEventRetention', 'housekeeping']) expect(JSON.stringify(body)).not.toContain(internal);
  });

  it("each variant carries its handler's payload schema", () => {
    const mapping = deref(bodySchema(doc.paths['/api/admin/job']!.post)).discriminator!.mapping;
    const payloadOf = (handler: string) => deref({ $ref: mapping[handler] }).properties!.payload!;
    const requiredOf = (handler: string) => deref({ $ref: mapping[handler] }).required;

    const echo = deref(payloadOf('echo'));
    expect(echo).toMatchObject({ type: 'object', properties: { message: { type: 'string', maxLength: 10_000 }, delayMs: { type: 'integer' } }, required: ['message'] });
    expect(requiredOf('echo')).toEqual(expect.arrayContaining(['handler', 'payload']));
    // As a client sends it: the transform's input, a string.
    expect(deref(payloadOf('report'))).toMatchObject({ properties: { userId: { type: 'string', minLength: 1 }, day: { type: 'string' } }, required: ['userId', 'day'] });
    expect(deref(payloadOf('ping'))).toMatchObject({ type: 'string', maxLength: 100 });
    expect(deref(payloadOf('billing sync'))).toMatchObject({ properties: { invoiceId: { type: 'string' } } });
    expect(mapping['billing sync']).toBe('#/components/schemas/EnqueueJobRequest_billing_sync');

    // No schema: any JSON value, and the payload may be left out.
    expect(deref(payloadOf('anything')).description).toMatch(/any JSON value/);
    expect(requiredOf('anything')).not.toContain('payload');
    // A schema JSON Schema cannot express: an open object that says so, and the document still builds.
    expect(deref(payloadOf('legacy'))).toMatchObject({ type: 'object', additionalProperties: true, description: expect.stringMatching(/cannot express/) });

    // A recursive payload's $defs become components, and its refs point at them.
    const archive = deref(payloadOf('archive'));
    const folder = archive.properties!.folder!;
    const folderSchema = deref(folder);
    expect(folderSchema).toMatchObject({ type: 'object', properties: { name: { type: 'string' } } });
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
  });

  it('each job of POST /api/admin/job/batch is that same union', () => {
    const batch = deref(bodySchema(doc.paths['/api/admin/job/batch']!.post));
    expect(batch.properties!.jobs!.items).toEqual(bodySchema(doc.paths['/api/admin/job']!.post));
  });

  it('cron create and update bodies are typed per handler too; a cron payload is an object', () => {
    const create = deref(bodySchema(doc.paths['/api/admin/cronJob']!.post));
    expect(create.discriminator?.propertyName).toBe('handler');
    expect(Object.keys(create.discriminator!.mapping).sort()).toEqual([...PUBLIC_TEST_HANDLERS].sort());
    const createEcho = deref({ $ref: create.discriminator!.mapping.echo });
    expect(createEcho.properties!.handler).toMatchObject({ const: 'echo' });
    expect(deref(createEcho.properties!.payload)).toMatchObject({ properties: { message: { type: 'string' } } });
    expect(createEcho.required).toEqual(expect.arrayContaining(['name', 'pattern', 'handler']));
    // `ping` takes a string, but a cron row stores an object: only an object can satisfy both.
    expect(deref({ $ref: create.discriminator!.mapping.ping }).properties!.payload!.allOf).toContainEqual({ type: 'object' });

    const update = deref(bodySchema(doc.paths['/api/admin/cronJob/{id}']!.patch));
    expect(update.oneOf).toHaveLength(PUBLIC_TEST_HANDLERS.length + 1);
    const variants = update.oneOf!.map(deref);
    expect(variants.filter((v) => v.properties!.handler).map((v) => v.properties!.handler!.const).sort()).toEqual([...PUBLIC_TEST_HANDLERS].sort());
    // A PATCH that keeps the stored handler: no `handler`, and nothing else is required.
    const keep = variants.find((v) => !v.properties!.handler)!;
    expect(keep.required ?? []).toEqual([]);
    expect(keep.additionalProperties).toBe(false);
    for (const variant of variants) expect(variant.required ?? []).not.toContain('payload');
  });

  it('validation is unchanged: the per-handler check still names the field, whatever the document says', async () => {
    const res = await t.call('POST', '/api/admin/job', { handler: 'report', payload: { day: '2026-12-07' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'body.payload.userId' });
  });
});

describe('OpenAPI document: operations, security, errors', () => {
  let t: TestApp;
  let doc: Document;
  beforeAll(async () => {
    t = await createTestApp();
    doc = (await (await t.call('GET', '/api/openapi.json')).json()) as Document;
  });
  afterAll(() => t.close());

  it('every operation has a unique camelCase operationId; the SDK method names come from them', () => {
    const ids = operations(doc).map(({ op }) => op.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    const id = (path: string, method: string) => doc.paths[path]![method]!.operationId;
    expect(id('/api/admin/job', 'post')).toBe('enqueueJob');
    expect(id('/api/admin/job/batch', 'post')).toBe('enqueueJobs');
    expect(id('/api/admin/job/{id}', 'get')).toBe('getJob');
    expect(id('/api/admin/job/{id}', 'delete')).toBe('cancelJob');
    expect(id('/api/admin/cronJob', 'post')).toBe('createCronJob');
    expect(id('/api/admin/webhookSubscription/{id}/event', 'get')).toBe('listWebhookAttempts');
    expect(id('/api/admin/webhookEvent/{id}/replay', 'post')).toBe('replayWebhookEvent');
  });

  it('public routes say so with security: []; admin routes require the bearer token', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    const publicPaths = ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json', '/api/openapi.json', '/api/docs'];
    for (const path of publicPaths) expect(doc.paths[path]?.get?.security, path).toEqual([]);
    const admin = operations(doc).filter(({ path }) => path.startsWith('/api/admin/'));
    expect(admin.length).toBeGreaterThan(25);
    for (const { path, method, op } of admin) expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license?.name).toBeTruthy();
  });

  it('every /api error response is problem+json; routes with a body list 413 and 415; 503 carries Retry-After', () => {
    for (const { path, method, op } of operations(doc).filter(({ path }) => path.startsWith('/api/admin/'))) {
      const where = `${method} ${path}`;
      expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['400', '401', '403', '503']));
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400) expect(response.content?.['application/problem+json']?.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
      }
      if (op.requestBody) expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['413', '415']));
      expect(op.responses['503']!.headers, where).toHaveProperty('Retry-After');
    }
    expect(doc.components.schemas.Problem).toMatchObject({ properties: { type: {}, title: {}, status: {}, field: {} } });
  });

  it('both enqueue routes take the Idempotency-Key header', () => {
    for (const path of ['/api/admin/job', '/api/admin/job/batch']) {
      expect(doc.paths[path]!.post!.parameters, path).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    }
  });
});
