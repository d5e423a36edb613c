// `npm run lint:openapi` (and `tsx scripts/dump-openapi.ts [file]`): writes the API's OpenAPI
// document, exactly as GET /api/openapi.json serves it for the built-in handlers, to `file` (or
// stdout), for `redocly lint`. The app is built in-process the way `npm run generate:client`
// builds it (nothing listens, no request reaches Redis or the database), so neither need run.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fetchOpenApiDocument } from './generate-client.js';

const out = process.argv[2];
const text = `${JSON.stringify(await fetchOpenApiDocument(), null, 2)}\n`;
if (out) {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  process.stderr.write(`wrote ${out}\n`);
} else {
  process.stdout.write(text);
}
