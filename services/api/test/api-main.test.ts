import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/src/config/index.js';
import { spawnTs } from '../../../test/helpers/index.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';

describe('api entry point and token script', () => {
  it('refuses to start outside local without auth: exit 1 and one line', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const child = spawnTs('services/api/src/main.ts', {
      APP_ENV: 'production',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      WEBHOOK_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    expect(await child.exited).toBe(1);
    const lines = child.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^refusing to start: APP_ENV=production needs admin API auth/);
  });

  it('`npm run token` mints a token the API accepts, with the asked scope', async () => {
    const env = { AUTH_JWT_SECRET: 'a-local-secret-of-at-least-32-characters!', AUTH_AUDIENCE: 'jobs', APP_ENV: 'local' };
    const child = spawnTs('scripts/token.ts', env, ['--scope', 'jobs:enqueue', '--sub', 'me']);
    expect(await child.exited).toBe(0);
    const verify = createTokenVerifier(loadConfig(env))!;
    expect(await verify(child.output().trim())).toEqual({ subject: 'me', named: true, scopes: new Set(['jobs:enqueue']) });
  });
});
