import type { App } from '../app-env.js';

// The OpenAPI 3.1 types, taken from what @hono/zod-openapi generates rather than imported from its
// own dependency (openapi3-ts), which this package does not declare.

/** The document `app.getOpenAPI31Document()` answers. */
export type OpenApiDocument = ReturnType<App['getOpenAPI31Document']>;
export type PathItem = NonNullable<OpenApiDocument['paths']>[string];
export type Operation = NonNullable<PathItem['get']>;
type SchemaOrReference = NonNullable<NonNullable<OpenApiDocument['components']>['schemas']>[string];
/** A schema object (OpenAPI 3.1's may carry `$ref` itself). */
export type SchemaObject = Exclude<SchemaOrReference, { $ref: string }>;

/** The operations of a path item, by method. */
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Every operation of the document, with its path and method. */
export function* operationsOf(doc: OpenApiDocument): Generator<{ path: string; method: (typeof HTTP_METHODS)[number]; operation: Operation }> {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation) yield { path, method, operation };
    }
  }
}
