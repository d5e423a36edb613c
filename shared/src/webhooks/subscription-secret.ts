import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, WebhookSubscription } from '../db/schema.js';
import { SecretDecryptError, type WebhookSecretBox } from './secret-box.js';
import { SECRET_PREFIX } from './signature.js';

/** Random bytes per secret (the spec asks for at least 24). */
export const SECRET_BYTES = 32;
/** How long the secret before a rotation still signs deliveries beside the new one. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 3600_000;

/**
 * A new subscription secret, `whsec_<base64 of 32 random bytes>`.
 *
 * @example
 * generateSubscriptionSecret(); // 'whsec_x3J0…='
 */
export function generateSubscriptionSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

type SecretColumns = Pick<WebhookSubscription, 'id' | 'secret_ciphertext' | 'previous_secret_ciphertext' | 'secret_rotated_at'>;

/**
 * The subscription's current secret, decrypted. A row from before migration 0003 has none yet:
 * one is drawn and stored now, unless a concurrent caller stored one first (then that one is
 * returned, so every process signs with the same secret). Undefined when there is no such row.
 *
 * @example
 * const secret = await ensureSubscriptionSecret(db, box, subscriptionId);
 */
export async function ensureSubscriptionSecret(db: Kysely<Database>, box: WebhookSecretBox, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('webhook_subscription').select(['id', 'secret_ciphertext']).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  if (row.secret_ciphertext) return box.decrypt(row.secret_ciphertext, id);
  const secret = generateSubscriptionSecret();
  const stored = await db
    .updateTable('webhook_subscription')
    .set({ secret_ciphertext: box.encrypt(secret, id) })
    .where('id', '=', id)
    .where('secret_ciphertext', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (stored) return secret;
  // Someone else gave it a secret between our read and write (or the row just went away).
  return ensureSubscriptionSecret(db, box, id);
}

/**
 * The secrets a delivery is signed with right now: the current one, then the previous one while
 * it is within {@link SECRET_ROTATION_OVERLAP_MS} of the rotation. Gives a pre-0003 row its
 * secret first.
 *
 * @example
 * const secrets = await signingSecretsOf(db, box, subscription);
 */
export async function signingSecretsOf(db: Kysely<Database>, box: WebhookSecretBox, row: SecretColumns, now = Date.now()): Promise<string[]> {
  const current = row.secret_ciphertext ? box.decrypt(row.secret_ciphertext, row.id) : await ensureSubscriptionSecret(db, box, row.id);
  if (current === undefined) return [];
  const rotatedAt = row.secret_rotated_at?.getTime();
  if (row.previous_secret_ciphertext && rotatedAt !== undefined && now < rotatedAt + SECRET_ROTATION_OVERLAP_MS) {
    return [current, box.decrypt(row.previous_secret_ciphertext, row.id)];
  }
  return [current];
}

/**
 * Replaces the secret with a new one; the old one keeps signing for 24 h beside it (one rotation
 * inside that window drops the oldest). `previousSecretExpiresAt` is null when there was no old
 * secret to keep: a row from before migration 0003, or one whose secret this `WEBHOOK_SECRET_KEY`
 * cannot decrypt (after the key was replaced; rotating is then how the row gets a usable secret).
 * Run in a transaction: the row is locked so two rotations cannot both keep the same previous
 * secret. Undefined when there is no such row.
 *
 * @example
 * const rotated = await db.transaction().execute((trx) => rotateSubscriptionSecret(trx, box, id));
 */
export async function rotateSubscriptionSecret(
  db: Kysely<Database>,
  box: WebhookSecretBox,
  id: string,
): Promise<{ secret: string; previousSecretExpiresAt: Date | null } | undefined> {
  const row = await db.selectFrom('webhook_subscription').select(['id', 'secret_ciphertext']).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) return undefined;
  const previous = row.secret_ciphertext && decryptsHere(box, row.secret_ciphertext, id) ? row.secret_ciphertext : null;
  const secret = generateSubscriptionSecret();
  const updated = await db
    .updateTable('webhook_subscription')
    .set({ secret_ciphertext: box.encrypt(secret, id), previous_secret_ciphertext: previous, secret_rotated_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returning('secret_rotated_at')
    .executeTakeFirstOrThrow();
  return { secret, previousSecretExpiresAt: previous ? new Date(updated.secret_rotated_at!.getTime() + SECRET_ROTATION_OVERLAP_MS) : null };
}

function decryptsHere(box: WebhookSecretBox, ciphertext: string, id: string): boolean {
  try {
    box.decrypt(ciphertext, id);
    return true;
  } catch (err) {
    if (err instanceof SecretDecryptError) return false;
    throw err;
  }
}

/**
 * Gives every subscription without a secret (rows from before migration 0003) its own. The API
 * runs it at start-up; idempotent and safe beside workers doing the same lazily.
 *
 * @example
 * const filled = await backfillSubscriptionSecrets(db, box);
 */
export async function backfillSubscriptionSecrets(db: Kysely<Database>, box: WebhookSecretBox): Promise<number> {
  let filled = 0;
  for (;;) {
    const rows = await db.selectFrom('webhook_subscription').select('id').where('secret_ciphertext', 'is', null).limit(500).execute();
    if (rows.length === 0) return filled;
    for (const { id } of rows) {
      await ensureSubscriptionSecret(db, box, id);
      filled++;
    }
  }
}
