import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Config } from '../config/config.js';
import { publishOnce, readIfExists } from './data-dir-file.js';
import { parseSecretKeyText, SECRET_KEY_BYTES } from './secret-key-text.js';

/**
 * Encrypts subscription secrets at rest with AES-256-GCM under `WEBHOOK_SECRET_KEY` (SPEC §18).
 * Each ciphertext is bound to its subscription id (GCM additional data), so one copied onto
 * another row does not decrypt there.
 */
export interface WebhookSecretBox {
  /** Names the key (a short fingerprint, not secret); stored inside every ciphertext. */
  readonly keyId: string;
  encrypt(secret: string, subscriptionId: string): string;
  /** Throws {@link SecretDecryptError} for a ciphertext of another key, a tampered one or another row's. */
  decrypt(ciphertext: string, subscriptionId: string): string;
}

/** A stored secret that this process cannot decrypt: the message says why, never the secret. */
export class SecretDecryptError extends Error {
  override name = 'SecretDecryptError';
}

/** Where local/test runs keep their generated secret key, under `DATA_DIR`. */
export const GENERATED_SECRET_KEY_FILE = 'webhook-secret-key';

/**
 * Ciphertext format: `v1:<keyId>:<base64url(iv ‖ ciphertext ‖ tag)>`. The version and key id
 * leave room to rotate `WEBHOOK_SECRET_KEY` itself later (decrypt with the old key by its id,
 * re-encrypt under the new one) without guessing which key a row was written with.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A box over a 32-byte key.
 *
 * @example
 * const box = createWebhookSecretBox(randomBytes(32));
 * box.decrypt(box.encrypt('whsec_…', id), id); // 'whsec_…'
 */
export function createWebhookSecretBox(key: Buffer): WebhookSecretBox {
  if (key.length !== SECRET_KEY_BYTES) throw new TypeError(`the webhook secret key must be ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
  const keyId = createHash('sha256').update('jobs-webhook-secret-key\0').update(key).digest('base64url').slice(0, 8);
  return {
    keyId,
    encrypt(secret, subscriptionId) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
      const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}:${keyId}:${sealed.toString('base64url')}`;
    },
    decrypt(ciphertext, subscriptionId) {
      const [version, id, data, ...rest] = ciphertext.split(':');
      if (version !== VERSION || !id || !data || rest.length > 0) throw new SecretDecryptError('stored webhook secret is not in a known format');
      if (id !== keyId) {
        throw new SecretDecryptError(`stored webhook secret was encrypted under key id ${id}, but WEBHOOK_SECRET_KEY is key id ${keyId}`);
      }
      const sealed = Buffer.from(data, 'base64url');
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptError('stored webhook secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptError(`stored webhook secret of subscription ${subscriptionId} fails its integrity check`);
      }
    },
  };
}

/**
 * The box for this process: `WEBHOOK_SECRET_KEY`, or in local/test without it a key generated
 * once and kept under `${dataDir}/webhook-secret-key` (0600; every service of the same DATA_DIR
 * shares it). Throws {@link ConfigError} naming the variable when it is missing or bad.
 *
 * @example
 * const box = await loadWebhookSecretBox(config);
 */
export async function loadWebhookSecretBox(config: Pick<Config, 'webhook' | 'dataDir' | 'isLocal' | 'isTest'>): Promise<WebhookSecretBox> {
  const { secretKey } = config.webhook;
  if (secretKey) return createWebhookSecretBox(parseKey(secretKey, 'WEBHOOK_SECRET_KEY'));
  if (!config.isLocal && !config.isTest) {
    // loadConfig already refuses this; repeated so a hand-built config cannot run without one.
    throw new ConfigError('WEBHOOK_SECRET_KEY', 'is required outside local/test');
  }
  const path = join(config.dataDir, GENERATED_SECRET_KEY_FILE);
  let text = await readIfExists(path);
  if (text === undefined) {
    await mkdir(config.dataDir, { recursive: true });
    await publishOnce(path, `${randomBytes(SECRET_KEY_BYTES).toString('base64')}\n`);
    // Re-read: if another process won the race, its key is the one.
    text = await readFile(path, 'utf8');
  }
  return createWebhookSecretBox(parseKey(text, 'DATA_DIR', `holds a webhook secret key at ${path} that `));
}

function parseKey(text: string, variable: string, where = ''): Buffer {
  try {
    return parseSecretKeyText(text);
  } catch (err) {
    throw new ConfigError(variable, `${where}${(err as Error).message}`);
  }
}
