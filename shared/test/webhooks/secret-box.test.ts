import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookSecretBox, GENERATED_SECRET_KEY_FILE, generateSubscriptionSecret, loadWebhookSecretBox, SecretDecryptError } from '../../src/webhooks/index.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { captureLogger } from '../../../test/helpers/index.js';

const deployed = { APP_ENV: 'production', DATABASE_URL: 'postgres://x@127.0.0.1/db', WEBHOOK_SIGNING_KEY_FILE: '/k' };
const ID = '0b7e0f4c-3c4e-4f3e-9a4e-2f1d7c9b8a61';

describe('WEBHOOK_SECRET_KEY', () => {
  it('is required outside local/test, with one line naming it', () => {
    expect(() => loadConfig(deployed)).toThrow(new ConfigError('WEBHOOK_SECRET_KEY', 'is required when APP_ENV=production (32 bytes, hex or base64: openssl rand -base64 32)'));
    expect(() => loadConfig({ APP_ENV: 'local' })).not.toThrow();
    expect(() => loadConfig({ APP_ENV: 'test' })).not.toThrow();
  });

  it('takes 32 bytes as base64, base64url or hex; anything else stops start-up naming the variable', () => {
    const key = randomBytes(32);
    for (const text of [key.toString('base64'), key.toString('base64url'), key.toString('hex'), key.toString('hex').toUpperCase()]) {
      expect(loadConfig({ ...deployed, WEBHOOK_SECRET_KEY: text }).webhook.secretKey).toBe(text);
    }
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(31).toString('hex'), 'not a key!', 'CHANGE_ME_openssl_rand_base64_32']) {
      let err: unknown;
      try {
        loadConfig({ ...deployed, WEBHOOK_SECRET_KEY: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ variable: 'WEBHOOK_SECRET_KEY' });
      expect((err as Error).message).toMatch(/^invalid environment: WEBHOOK_SECRET_KEY must be 32 bytes[^\n]*$/);
      expect((err as Error).message).not.toContain(bad);
    }
  });

  it('is never logged: the config, the key and a whole subscription row are redacted', () => {
    const { log, lines } = captureLogger('info');
    const config = loadConfig({ ...deployed, WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
    const box = createWebhookSecretBox(randomBytes(32));
    const ciphertext = box.encrypt(generateSubscriptionSecret(), ID);
    log.info({ config }, 'config');
    log.info({ secretKey: config.webhook.secretKey }, 'key');
    log.info({ subscription: { id: ID, secret_ciphertext: ciphertext, previous_secret_ciphertext: ciphertext } }, 'row');
    const text = JSON.stringify(lines);
    expect(text).not.toContain(config.webhook.secretKey);
    expect(text).not.toContain(ciphertext);
    expect(lines[2]).toMatchObject({ subscription: { id: ID, secret_ciphertext: '[redacted]' } });
  });
});

describe('WebhookSecretBox', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wh-secret-key-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('AES-256-GCM, bound to the subscription id, naming its key: another row, another key or a changed byte does not decrypt', () => {
    const box = createWebhookSecretBox(randomBytes(32));
    const secret = generateSubscriptionSecret();
    const ciphertext = box.encrypt(secret, ID);
    expect(ciphertext).toMatch(new RegExp(`^v1:${box.keyId}:[A-Za-z0-9_-]+$`));
    expect(ciphertext).not.toContain(secret.slice(6));
    expect(box.encrypt(secret, ID)).not.toBe(ciphertext); // a fresh IV each time
    expect(box.decrypt(ciphertext, ID)).toBe(secret);

    expect(() => box.decrypt(ciphertext, '00000000-0000-4000-8000-000000000000')).toThrow(SecretDecryptError);
    const other = createWebhookSecretBox(randomBytes(32));
    expect(() => other.decrypt(ciphertext, ID)).toThrow(`encrypted under key id ${box.keyId}, but WEBHOOK_SECRET_KEY is key id ${other.keyId}`);
    const data = Buffer.from(ciphertext.split(':')[2]!, 'base64url');
    data[20]! ^= 1;
    expect(() => box.decrypt(`v1:${box.keyId}:${data.toString('base64url')}`, ID)).toThrow(/integrity/);
    expect(() => box.decrypt('plain', ID)).toThrow(/known format/);
  });

  it('uses WEBHOOK_SECRET_KEY as given and writes nothing under DATA_DIR', async () => {
    const key = randomBytes(32).toString('base64');
    const box = await loadWebhookSecretBox(loadConfig({ APP_ENV: 'test', DATA_DIR: dataDir, WEBHOOK_SECRET_KEY: key }));
    const again = await loadWebhookSecretBox(loadConfig({ ...deployed, WEBHOOK_SECRET_KEY: key }));
    expect(again.decrypt(box.encrypt('whsec_x', ID), ID)).toBe('whsec_x');
    await expect(stat(join(dataDir, GENERATED_SECRET_KEY_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('in local/test without it: one key generated under DATA_DIR (0600), shared by processes starting together and kept across restarts', async () => {
    const config = loadConfig({ APP_ENV: 'local', DATA_DIR: dataDir });
    const [a, b, c] = await Promise.all([loadWebhookSecretBox(config), loadWebhookSecretBox(config), loadWebhookSecretBox(config)]);
    expect(new Set([a.keyId, b.keyId, c.keyId]).size).toBe(1);
    expect((await stat(join(dataDir, GENERATED_SECRET_KEY_FILE))).mode & 0o777).toBe(0o600);
    const restarted = await loadWebhookSecretBox(config);
    expect(restarted.decrypt(a.encrypt('whsec_y', ID), ID)).toBe('whsec_y');
  });
});
