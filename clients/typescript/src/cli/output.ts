import { JobsApiError } from '../index.js';

/** Writes one JSON document (`--json`) or the human rendering. */
export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

/** `key: value` lines, values that are objects as compact JSON; absent values left out. */
export function fields(record: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  return Object.entries(record)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');
}

/** A plain-text table with a header row; `(none)` when empty. */
export function table(headers: string[], rows: unknown[][]): string {
  if (!rows.length) return '(none)';
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : typeof c === 'object' ? JSON.stringify(c) : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** A page's footer: how to get the next one. */
export function nextPage(nextCursor: string | null | undefined): string {
  return nextCursor ? `\nmore: --cursor ${nextCursor}` : '';
}

/**
 * An API failure: the problem document on stdout with `--json` (scripts read one place), else
 * a readable summary on stderr.
 */
export function printError(json: boolean, err: JobsApiError): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    return;
  }
  const lines = [`error: ${err.status ? `${err.status} ` : ''}${err.title}${err.detail ? `: ${err.detail}` : ''}`];
  if (err.field) lines.push(`  field: ${err.field}`);
  if (err.requestId) lines.push(`  request id: ${err.requestId}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

export { JobsApiError };
