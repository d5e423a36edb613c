import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENERATED_KEY_FILE, loadSigningKeys } from '../../src/webhooks/index.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const rsaPem = (bits: number) =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'webhook-keys-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('loadSigningKeys', () => {
  it('in test without a key, generates one once, keeps it 0600 under DATA_DIR and reuses it', async () => {
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: join(dataDir, 'nested') });
    const first = await loadSigningKeys(config);
    const file = join(dataDir, 'nested', GENERATED_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.current.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(first.next).toBeUndefined();
    expect(first.all).toEqual([first.current]);

    const second = await loadSigningKeys(config);
    expect(second.current.kid).toBe(first.current.kid);
  });

  it('concurrent first loads agree on one key and leave no temp files', async () => {
    const config = loadConfig({ APP_ENV: 'local', DATA_DIR: dataDir });
    const loads = await Promise.all(Array.from({ length: 4 }, () => loadSigningKeys(config)));
    expect(new Set(loads.map((k) => k.current.kid)).size).toBe(1);
    expect(await readdir(dataDir)).toEqual([GENERATED_KEY_FILE]);
  });

  it('uses WEBHOOK_SIGNING_KEY as given and writes nothing', async () => {
    const pem = rsaPem(2048);
    const keys = await loadSigningKeys(loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir, WEBHOOK_SIGNING_KEY: pem }));
    expect(keys.current.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(pem);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('reads WEBHOOK_SIGNING_KEY_FILE, and adds WEBHOOK_NEXT_SIGNING_KEY for rotation', async () => {
    const pem = rsaPem(2048);
    const file = join(dataDir, 'key.pem');
    await writeFile(file, pem);
    const env = { APP_ENV: 'staging', DATABASE_URL: 'postgres://x/y', WEBHOOK_SIGNING_KEY_FILE: file, WEBHOOK_SECRET_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', WEBHOOK_NEXT_SIGNING_KEY: rsaPem(2048) };
    const keys = await loadSigningKeys(loadConfig(env));
    expect(keys.current.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(pem);
    expect(keys.next).toBeDefined();
    expect(keys.all.map((k) => k.kid)).toEqual([keys.current.kid, keys.next!.kid]);
  });

  it('refuses a 1024-bit key, naming the variable', async () => {
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir, WEBHOOK_SIGNING_KEY: rsaPem(1024) });
    const err = await loadSigningKeys(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ variable: 'WEBHOOK_SIGNING_KEY' });
    expect((err as Error).message).toMatch(/WEBHOOK_SIGNING_KEY .*2048 bits \(got 1024\)/);
  });

  it('refuses a non-RSA next key, naming the variable', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir, WEBHOOK_SIGNING_KEY: rsaPem(2048), WEBHOOK_NEXT_SIGNING_KEY: ec });
    await expect(loadSigningKeys(config)).rejects.toMatchObject({ variable: 'WEBHOOK_NEXT_SIGNING_KEY' });
  });

  it('refuses to generate a key outside local/test', async () => {
    const config = { ...loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir }), isTest: false };
    await expect(loadSigningKeys(config)).rejects.toMatchObject({ variable: 'WEBHOOK_SIGNING_KEY' });
    expect(await readdir(dataDir)).toEqual([]);
  });
});
