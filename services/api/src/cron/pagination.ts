import { sql } from 'kysely';
import { isUuid } from './uuid.js';

/**
 * Where a keyset page ends: the last item's `created_at` as Postgres text with microseconds
 * (`2024-05-01T12:00:00.123456Z`, UTC) and its id. Microseconds matter: a JS Date keeps only
 * milliseconds, and a truncated position would hand the boundary row out twice.
 */
export interface KeysetPosition {
  createdAt: string;
  id: string;
}

/**
 * `created_at` as text with microseconds, UTC: a row's keyset position. Lists select it
 * `as('position_created_at')`; {@link toPage} takes it off again.
 */
export const createdAtText = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The rows after `position` in `(created_at, id)` order; `desc` for a newest-first list. */
export function afterPosition(position: KeysetPosition, order: 'asc' | 'desc' = 'asc') {
  return order === 'asc'
    ? sql<boolean>`(created_at, id) > (${position.createdAt}::timestamptz, ${position.id}::uuid)`
    : sql<boolean>`(created_at, id) < (${position.createdAt}::timestamptz, ${position.id}::uuid)`;
}

/**
 * One page out of `limit + 1` rows fetched in keyset order (the extra row only says another page
 * follows, without a count), and the position to continue from: undefined on the last page.
 *
 * @example
 * toPage(await query.orderBy('created_at').orderBy('id').limit(limit + 1).execute(), limit);
 */
export function toPage<R extends { id: string; position_created_at: string }>(found: R[], limit: number): { rows: Omit<R, 'position_created_at'>[]; next: KeysetPosition | undefined } {
  const page = found.slice(0, limit);
  const last = page.at(-1);
  const next = found.length > limit && last ? { createdAt: last.position_created_at, id: last.id } : undefined;
  return { rows: page.map(({ position_created_at: _, ...row }) => row), next };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,512}$/;

/**
 * An opaque cursor for `position` (base64url JSON). Clients pass it back unchanged.
 *
 * @example
 * encodeCursor({ createdAt: '2024-05-01T12:00:00.123456Z', id: row.id }); // 'WyIyMDI0LTA1…'
 */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString('base64url');
}

/**
 * The position inside a cursor, or undefined when it is not one of ours. Checked down to the
 * calendar date, so a forged cursor answers 400 rather than reaching Postgres as a bad timestamp.
 *
 * @example
 * decodeCursor(encodeCursor(p)); // p
 * decodeCursor('garbage');       // undefined
 */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [createdAt, id] = value as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !isUuid(id) || !isRealTimestamp(createdAt)) return undefined;
  return { createdAt, id };
}

/** Matches {@link TIMESTAMP} and names an instant that exists (no 31 April, no hour 25). */
function isRealTimestamp(text: string): boolean {
  const parts = TIMESTAMP.exec(text)?.slice(1).map(Number);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
  if (year < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
