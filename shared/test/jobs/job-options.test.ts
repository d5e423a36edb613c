import { describe, expect, it } from 'vitest';
import { JobOptionsError, makeJob, type EnqueueOptions } from '../../src/index.js';
import { toBullJobOptions } from '../../src/jobs/index.js';

const plain = makeJob<{ n: number }>(async () => undefined);
const tuned = makeJob<{ n: number }>(async () => undefined, { attempts: 7, backoffMs: 250, backoffJitter: 0.5 });

describe('toBullJobOptions', () => {
  it("without options: the handler's defaults, the same frozen object every time", () => {
    const first = toBullJobOptions('tuned', tuned, {});
    expect(first).toMatchObject({ attempts: 7, backoff: { type: 'exponential', delay: 250, jitter: 0.5 }, keepLogs: 100 });
    expect(toBullJobOptions('tuned', tuned, { type: 'cron', cronJobId: 'c1' })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(toBullJobOptions('plain', plain, {})).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 1_000 } });
  });

  it('options given override the defaults and do not leak into the shared defaults', () => {
    const opts = toBullJobOptions('tuned', tuned, { attempts: 2, delay: 50, priority: 4, dedupeKey: 'k' });
    expect(opts).toMatchObject({ attempts: 2, delay: 50, priority: 4, deduplication: { id: 'tuned:k' } });
    expect(toBullJobOptions('tuned', tuned, {})).toMatchObject({ attempts: 7 });
    expect(toBullJobOptions('tuned', tuned, {})).not.toHaveProperty('delay');
  });

  it('an unknown or invalid option is still refused, naming it', () => {
    const unknown = { colour: 'red' } as unknown as EnqueueOptions;
    expect(() => toBullJobOptions('plain', plain, unknown)).toThrow(JobOptionsError);
    expect(() => toBullJobOptions('plain', plain, unknown)).toThrow(/options\.colour/);
    expect(() => toBullJobOptions('plain', plain, { attempts: 0 })).toThrow(/options\.attempts/);
  });
});
