import { describe, expect, it } from 'vitest';
import { checkReadiness, readinessBody, startHealthServer } from '../src/process/index.js';

describe('checkReadiness', () => {
  it('names failing and hung checks, keeping their reasons for the log only', async () => {
    const report = await checkReadiness(
      { redis: async () => 'PONG', db: () => Promise.reject(new Error('ECONNREFUSED')), slow: () => new Promise(() => {}) },
      50,
    );
    expect(report).toEqual({
      ready: false,
      checks: { redis: 'ok', db: 'down', slow: 'down' },
      down: ['db', 'slow'],
      errors: { db: 'ECONNREFUSED', slow: 'no answer within 50 ms' },
    });
    expect(readinessBody(report)).toEqual({ status: 'unavailable', checks: report.checks, down: ['db', 'slow'] });
  });

  it('is ready with no checks at all', async () => {
    expect(readinessBody(await checkReadiness({}))).toEqual({ status: 'ok', checks: {} });
  });

  it('backs the health server /readyz', async () => {
    const health = await startHealthServer(0, { redis: () => Promise.reject(new Error('down')) }, { host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${health.port}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', checks: { redis: 'down' }, down: ['redis'] });
    } finally {
      await health.close();
    }
  });
});
