import { CronExpressionParser } from 'cron-parser';

/** A cron pattern that cannot be used; `message` says what is wrong, fit for a 400 answer. */
export class CronPatternError extends Error {
  override name = 'CronPatternError';
  readonly code = 'invalid_cron_pattern';
  constructor(
    readonly pattern: string,
    readonly detail: string,
  ) {
    super(`invalid cron pattern "${pattern}": ${detail}`);
  }
}

export interface ParsedCronPattern {
  /** The pattern with surrounding blanks trimmed and inner runs of blanks made one space. */
  pattern: string;
  /** True for 6 fields (the first is seconds). */
  hasSeconds: boolean;
  /** The next run times after `from`, in UTC, `count` of them. */
  next: Date[];
}

export interface ParseCronPatternOptions {
  /** How many upcoming runs to compute (default 1, at most 100). */
  count?: number;
  /** Compute runs after this instant (default now). */
  from?: Date;
}

const FIVE = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;
const SIX = ['second', ...FIVE] as const;
const MAX_LENGTH = 256;

/**
 * Checks a cron pattern the way the scheduler will run it: standard 5 fields
 * (`minute hour day-of-month month day-of-week`) or 6 with a leading seconds field, always
 * UTC. Returns the normalised pattern and its next run(s); throws {@link CronPatternError}
 * whose message names the field that is wrong.
 *
 * Refused on purpose: `@daily`-style macros and `H` (hashed) values, which are not standard
 * cron, and patterns that never fire (e.g. `0 0 30 2 *`).
 *
 * @example
 * parseCronPattern('*\/5 * * * *').next[0];            // the next multiple of 5 minutes, UTC
 * parseCronPattern('0 0 9 * * MON-FRI', { count: 3 }); // 6 fields: at 09:00:00 on weekdays
 * parseCronPattern('61 * * * *');                       // throws: minute field "61": …expected range 0-59
 */
export function parseCronPattern(pattern: string, options: ParseCronPatternOptions = {}): ParsedCronPattern {
  if (typeof pattern !== 'string') throw new CronPatternError(String(pattern), 'must be a string');
  const normalised = pattern.trim().replace(/\s+/g, ' ');
  const fail = (detail: string): never => {
    throw new CronPatternError(pattern, detail);
  };
  if (normalised === '') fail('is empty');
  if (normalised.length > MAX_LENGTH) fail(`is longer than ${MAX_LENGTH} characters`);
  if (normalised.startsWith('@')) fail('macros such as @daily are not supported: use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first');
  const fields = normalised.split(' ');
  if (fields.length !== 5 && fields.length !== 6) {
    fail(`has ${fields.length} field${fields.length === 1 ? '' : 's'}: use 5 (minute hour day-of-month month day-of-week) or 6 with seconds first`);
  }
  const names = fields.length === 6 ? SIX : FIVE;
  fields.forEach((field, i) => {
    // cron-parser reads H as "a hashed value"; without a seed it differs between parses, so
    // the API and BullMQ would not agree on when the job runs.
    if (/h/i.test(field.replace(/thu|thursday/gi, ''))) fail(`${names[i]} field "${field}": H (hashed) values are not supported`);
  });

  const count = Math.min(Math.max(Math.trunc(options.count ?? 1), 1), 100);
  const from = options.from ?? new Date();
  try {
    const expression = CronExpressionParser.parse(normalised, { tz: 'UTC', currentDate: from });
    const next = expression.take(count).map((d) => d.toDate());
    if (next.length === 0) fail('never fires');
    return { pattern: normalised, hasSeconds: fields.length === 6, next };
  } catch (err) {
    if (err instanceof CronPatternError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    const field = culprit(fields, names);
    if (field) return fail(`${field}: ${reason}`);
    // Fields valid on their own but not together, e.g. day 30 of February.
    return fail(/day of month/i.test(reason) ? `day of month and month never coincide (${reason})` : reason);
  }
}

/** The first field that fails on its own (others wildcarded), named for the error message. */
function culprit(fields: string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < fields.length; i++) {
    const probe = fields.map((f, j) => (j === i ? f : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe, { tz: 'UTC' });
    } catch {
      return `${names[i]} field "${fields[i]}"`;
    }
  }
  return undefined;
}
