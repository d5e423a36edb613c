import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.js';

const pg = 'postgres://postgres@127.0.0.1:5432/test';

describe('loadConfig', () => {
  it('applies the documented defaults in local', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      appEnv: 'local',
      isLocal: true,
      port: 8000,
      workerPort: 8001,
      schedulerPort: 8002,
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'bull',
      queueName: 'jobs',
      databaseUrl: undefined,
      dataDir: '.data',
      worker: { concurrency: 10, lockDurationMs: 300_000, shutdownTimeoutMs: 60_000 },
      webhook: { timeoutMs: 5_000, failureThreshold: 5, allowPrivateNetworks: true },
      logLevel: 'info',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ APP_ENV: 'production', WEBHOOK_SIGNING_KEY_FILE: '/k' }, 'DATABASE_URL'],
    [{ APP_ENV: 'production', DATABASE_URL: pg }, 'WEBHOOK_SIGNING_KEY'],
    [{ BULL_BOARD_USERNAME: 'admin' }, 'BULL_BOARD_PASSWORD'],
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'],
  ])('%o is refused naming %s', (env, variable) => {
    const err = (() => {
      try {
        loadConfig(env);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as ConfigError).message).toContain(variable);
  });

  it('AUTH_JWKS_URL must be https outside local and test, with one line naming it; http is fine in local and test', () => {
    const deployed = { APP_ENV: 'production', DATABASE_URL: pg, WEBHOOK_SIGNING_KEY_FILE: '/k', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=' };
    expect(() => loadConfig({ ...deployed, AUTH_JWKS_URL: 'http://idp.example.com/.well-known/jwks.json' })).toThrow(
      new ConfigError('AUTH_JWKS_URL', 'must use https when APP_ENV=production (http is allowed in local and test only) (got http:)'),
    );
    expect(loadConfig({ ...deployed, AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' }).auth.jwksUrl).toBe('https://idp.example.com/.well-known/jwks.json');
    for (const APP_ENV of ['local', 'test']) expect(loadConfig({ APP_ENV, AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks.json' }).auth.jwksUrl).toBe('http://127.0.0.1:9999/jwks.json');
    expect(() => loadConfig({ APP_ENV: 'local', AUTH_JWKS_URL: 'ftp://idp.example.com/jwks.json' })).toThrow(/^invalid environment: AUTH_JWKS_URL must be an https or http URL/);
  });

  it('treats empty values as unset and keeps private networks closed outside local/test', () => {
    const config = loadConfig({ APP_ENV: 'staging', DATABASE_URL: pg, WEBHOOK_SIGNING_KEY_FILE: '/k', WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', PORT: '' });
    expect(config.port).toBe(8000);
    expect(config.isLocal).toBe(false);
    expect(config.webhook.allowPrivateNetworks).toBe(false);
  });

  it('a service given a bad value exits 1 with one line naming the variable', () => {
    const run = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', 'services/worker/src/main.ts'], {
      env: { ...process.env, APP_ENV: 'local', WORKER_CONCURRENCY: 'lots' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^invalid environment: WORKER_CONCURRENCY /);
  });
});
