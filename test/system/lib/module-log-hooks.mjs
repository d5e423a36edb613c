// Module resolution hook (runs in Node's loader thread): notes each @opentelemetry module resolved.
import { appendFileSync } from 'node:fs';

const file = process.env.MODULE_LOG_FILE;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (file && result.url.includes('/@opentelemetry/')) appendFileSync(file, `${process.pid} ${result.url}\n`);
  return result;
}
