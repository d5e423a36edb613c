import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { ConfigError, type Config } from '../config/config.js';
import { publishOnce, readIfExists } from './data-dir-file.js';

/** One webhook signing key: the private half signs, the public JWK is published at the JWKS URL. */
export interface SigningKey {
  /** RFC 7638 SHA-256 thumbprint of the public JWK, so a kid can never name two different keys. */
  kid: string;
  privateKey: KeyObject;
  /** Public members only: `kty`, `n`, `e`, `kid`, `alg: 'RS256'`, `use: 'sig'`. */
  publicJwk: JWK;
}

/** The keys deliveries are signed with. `all` is `[current, next?]`: sign with and publish every one. */
export interface SigningKeys {
  current: SigningKey;
  /** Set during a rotation (`WEBHOOK_NEXT_SIGNING_KEY`), so receivers can learn it before it becomes current. */
  next: SigningKey | undefined;
  all: SigningKey[];
}

/** Where local/test runs keep their generated key, under `DATA_DIR`. */
export const GENERATED_KEY_FILE = 'webhook-signing-key.pem';

const MIN_MODULUS_BITS = 2048;
const generateRsa = promisify(generateKeyPair);

/**
 * Loads the webhook signing keys from `WEBHOOK_SIGNING_KEY` / `WEBHOOK_SIGNING_KEY_FILE` (and the
 * optional `WEBHOOK_NEXT_SIGNING_KEY`). In local/test with neither set, a key is generated once and
 * kept under `${dataDir}/webhook-signing-key.pem`. Throws {@link ConfigError} naming the variable
 * when a key is missing, unreadable, not RSA or under 2048 bits.
 *
 * @example
 * const keys = await loadSigningKeys(config);
 * keys.current.kid; // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export async function loadSigningKeys(
  config: Pick<Config, 'webhook' | 'dataDir' | 'isLocal' | 'isTest'>,
): Promise<SigningKeys> {
  const { signingKey, signingKeyFile, nextSigningKey } = config.webhook;
  let current: SigningKey;
  if (signingKey) {
    current = await toSigningKey(signingKey, 'WEBHOOK_SIGNING_KEY');
  } else if (signingKeyFile) {
    const pem = await readFile(signingKeyFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError('WEBHOOK_SIGNING_KEY_FILE', `cannot be read (${err.code ?? err.message}): ${signingKeyFile}`);
    });
    current = await toSigningKey(pem, 'WEBHOOK_SIGNING_KEY_FILE');
  } else if (config.isLocal || config.isTest) {
    current = await loadOrGenerateLocalKey(config.dataDir);
  } else {
    // loadConfig already refuses this; repeated here so a hand-built config cannot sign with nothing.
    throw new ConfigError('WEBHOOK_SIGNING_KEY', '(or WEBHOOK_SIGNING_KEY_FILE) is required outside local/test');
  }

  let next = nextSigningKey ? await toSigningKey(nextSigningKey, 'WEBHOOK_NEXT_SIGNING_KEY') : undefined;
  // The same key twice would only produce a duplicate signature entry: treat it as no rotation.
  if (next?.kid === current.kid) next = undefined;
  return { current, next, all: next ? [current, next] : [current] };
}

/**
 * The public JWK Set to serve at `/.well-known/jwks.json`. Built member by member so a private
 * member (`d`, `p`, …) can never leak into it.
 *
 * @example
 * app.get('/.well-known/jwks.json', (c) => c.json(jwks(keys)));
 */
export function jwks(keys: SigningKeys | readonly SigningKey[]): { keys: JWK[] } {
  const list = 'all' in keys ? keys.all : keys;
  return {
    keys: list.map(({ publicJwk: { kty, n, e, kid, alg, use } }) => ({ kty, n, e, kid, alg, use })),
  };
}

async function toSigningKey(pem: string, variable: string, where = ''): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = parseRsaPrivateKey(pem);
  } catch (err) {
    throw new ConfigError(variable, `${where}${(err as Error).message}`);
  }
  const { kty, n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: kty!, n: n!, e: e! }, 'sha256');
  return { kid, privateKey, publicJwk: { kty: kty!, n: n!, e: e!, kid, alg: 'RS256', use: 'sig' } };
}

function parseRsaPrivateKey(pem: string): KeyObject {
  // Env files and secret stores often flatten a PEM onto one line with literal "\n".
  const text = pem.includes('\n') ? pem : pem.replaceAll('\\n', '\n');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw new Error(`is not a readable PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`must be an RSA private key (got ${key.asymmetricKeyType ?? 'unknown'})`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_MODULUS_BITS) {
    throw new Error(`must be an RSA key of at least ${MIN_MODULUS_BITS} bits (got ${bits})`);
  }
  return key;
}

/**
 * Reads the generated key, creating it first if absent. Two processes starting together may both
 * generate one; each writes its own temp file and hard-links it into place, which fails if the
 * target exists, so exactly one wins and everyone then reads the winner's key.
 */
async function loadOrGenerateLocalKey(dataDir: string): Promise<SigningKey> {
  const path = join(dataDir, GENERATED_KEY_FILE);
  const existing = await readIfExists(path);
  if (existing === undefined) {
    await mkdir(dataDir, { recursive: true });
    const { privateKey } = await generateRsa('rsa', { modulusLength: MIN_MODULUS_BITS });
    await publishOnce(path, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  }
  // Re-read rather than use our own key: if another process won the race, its key is the one.
  const pem = existing ?? (await readFile(path, 'utf8'));
  return toSigningKey(pem, 'DATA_DIR', `holds a webhook signing key at ${path} (delete it to regenerate) that `);
}
