import cronstrue from 'cronstrue';
import { parseCronPattern } from '@jobs/shared/cron';

/** How a row's schedule reads on a page: the pattern in words and its next runs (UTC). */
export interface ScheduleText {
  /** "At 03:00, Monday through Friday (UTC)"; undefined when the pattern does not parse. */
  words: string | undefined;
  /** The next `count` ticks, in UTC; empty when the pattern does not parse. */
  next: Date[];
}

/**
 * The pattern in words (cronstrue, 24-hour clock; the scheduler always runs in UTC) and its next
 * runs as the scheduler computes them (shared `parseCronPattern`). A pattern stored behind the
 * API's back that no longer parses shows neither, rather than failing the page.
 *
 * @example
 * scheduleText('0 3 * * *', 3); // { words: 'At 03:00 (UTC)', next: [3 dates] }
 */
export function scheduleText(pattern: string, count: number, now: Date = new Date()): ScheduleText {
  let next: Date[] = [];
  try {
    next = parseCronPattern(pattern, { count, from: now }).next;
  } catch {
    return { words: undefined, next };
  }
  let words: string | undefined;
  try {
    words = `${cronstrue.toString(pattern, { use24HourTimeFormat: true, verbose: false })} (UTC)`;
  } catch {
    words = undefined;
  }
  return { words, next };
}

/**
 * A UTC instant as shown on the console's pages: `2026-12-07 03:00:00 UTC`.
 *
 * @example
 * formatUtc(new Date('2026-12-07T03:00:00Z')); // '2026-12-07 03:00:00 UTC'
 */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
