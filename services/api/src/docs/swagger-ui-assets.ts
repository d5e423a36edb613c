import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * swagger-ui-dist's folder, resolved from this module (never from the working folder, which
 * bull-board's static serving depends on): the docs page works whatever directory the API
 * starts in, and offline, since nothing comes from a CDN.
 */
const packageDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The installed version; asset URLs carry it, so they can be cached for good. */
export const SWAGGER_UI_VERSION = (createRequire(import.meta.url)('swagger-ui-dist/package.json') as { version: string }).version;

/** The only files served: what the page loads. Anything else in the package is a 404. */
const FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

export interface SwaggerUiAsset {
  contentType: string;
  body: Buffer;
  /** The same bytes gzipped (the bundle is 1.8 MB, about a quarter of that gzipped). */
  gzipped: Buffer;
}

const loaded = new Map<string, Promise<SwaggerUiAsset>>();

/**
 * One of the page's assets from the installed package, read on first use and kept (the API
 * never pays for it unless someone opens the docs); undefined for any other name.
 *
 * @example
 * const asset = await swaggerUiAsset('swagger-ui.css'); // { contentType: 'text/css; charset=utf-8', body, gzipped }
 */
export function swaggerUiAsset(name: string): Promise<SwaggerUiAsset> | undefined {
  if (!Object.hasOwn(FILES, name)) return undefined;
  let asset = loaded.get(name);
  if (!asset) {
    asset = readFile(join(packageDir, name)).then((body) => ({ contentType: FILES[name]!, body, gzipped: gzipSync(body) }));
    // A failed read is not kept: the next request tries again.
    asset.catch(() => loaded.delete(name));
    loaded.set(name, asset);
  }
  return asset;
}
