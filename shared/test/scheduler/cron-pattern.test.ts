import { describe, expect, it } from 'vitest';
import { CronPatternError, parseCronPattern } from '../../src/cron/index.js';

describe('parseCronPattern', () => {
  const from = new Date('2026-03-04T10:07:30.500Z'); // a Wednesday

  it('reads 5 fields, always in UTC', () => {
    const parsed = parseCronPattern('*/15 * * * *', { from, count: 3 });
    expect(parsed).toEqual({
      pattern: '*/15 * * * *',
      hasSeconds: false,
      next: [new Date('2026-03-04T10:15:00Z'), new Date('2026-03-04T10:30:00Z'), new Date('2026-03-04T10:45:00Z')],
    });
    expect(parseCronPattern('0 9 * * MON-FRI', { from }).next).toEqual([new Date('2026-03-05T09:00:00Z')]);
  });

  it('reads 6 fields with seconds first, and normalises blanks', () => {
    const parsed = parseCronPattern('  */1   * * * * * ', { from, count: 2 });
    expect(parsed.pattern).toBe('*/1 * * * * *');
    expect(parsed.hasSeconds).toBe(true);
    expect(parsed.next).toEqual([new Date('2026-03-04T10:07:31Z'), new Date('2026-03-04T10:07:32Z')]);
  });

  it.each([
    ['', 'is empty'],
    ['* * * *', 'has 4 fields: use 5 (minute hour day-of-month month day-of-week) or 6 with seconds first'],
    ['* * * * * * *', 'has 7 fields'],
    ['61 * * * *', 'minute field "61": Constraint error, got value 61 expected range 0-59'],
    ['* 24 * * *', 'hour field "24"'],
    ['* * 0 * *', 'day of month field "0"'],
    ['* * * 13 *', 'month field "13"'],
    ['* * * * 8', 'day of week field "8"'],
    ['60 * * * * *', 'second field "60"'],
    ['*/0 * * * *', 'minute field "*/0"'],
    ['a b c d e', 'minute field "a": Invalid characters'],
    ['0 0 30 2 *', 'day of month and month never coincide'],
    ['@daily', 'macros such as @daily are not supported'],
    ['H * * * *', 'H (hashed) values are not supported'],
    ['x'.repeat(300), 'longer than 256 characters'],
  ])('refuses %j: %s', (pattern, detail) => {
    let error: unknown;
    try {
      parseCronPattern(pattern);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CronPatternError);
    expect((error as CronPatternError).code).toBe('invalid_cron_pattern');
    expect((error as CronPatternError).message).toContain(detail);
    expect((error as CronPatternError).message).toMatch(/^invalid cron pattern "/);
  });

  it('accepts names, lists, ranges, steps and L like BullMQ does', () => {
    for (const p of ['0 12 * * thu', '0 0 1,15 * *', '5-10/2 * * jan-mar *', '0 0 L * *', '0 0 29 2 *']) {
      expect(() => parseCronPattern(p)).not.toThrow();
    }
  });
});
