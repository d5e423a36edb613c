import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { builtinSchedulesWith } from '../../src/scheduler/index.js';

// The built-in schedules (SPEC §14) and their setting; the scheduler keeping them in Redis is in sync.test.ts.
const RETENTION = 'builtin:webhookEventRetention';

describe('WEBHOOK_EVENT_RETENTION_SCHEDULE', () => {
  it('defaults to 03:17 UTC daily, takes another cron pattern or "off", and refuses anything else naming the variable', () => {
    expect(loadConfig({ APP_ENV: 'test' }).webhook.eventRetentionSchedule).toBe('17 3 * * *');
    expect(loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: '0 4 * * 0' }).webhook.eventRetentionSchedule).toBe('0 4 * * 0');
    expect(loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: 'off' }).webhook.eventRetentionSchedule).toBe(false);
    expect(() => loadConfig({ APP_ENV: 'test', WEBHOOK_EVENT_RETENTION_SCHEDULE: '61 * * * *' })).toThrow(/WEBHOOK_EVENT_RETENTION_SCHEDULE.*minute/);
    expect(builtinSchedulesWith({ webhookEventRetention: false })).toEqual([]);
    expect(builtinSchedulesWith({}).map((s) => [s.id, s.handler, s.pattern])).toEqual([[RETENTION, 'webhookEventRetention', '17 3 * * *']]);
  });
});
