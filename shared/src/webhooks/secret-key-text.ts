/** Bytes of the AES-256 key that encrypts subscription secrets at rest (`WEBHOOK_SECRET_KEY`). */
export const SECRET_KEY_BYTES = 32;

/**
 * Decodes `WEBHOOK_SECRET_KEY`: exactly 32 bytes written as 64 hex characters or as base64 /
 * base64url (`openssl rand -base64 32`). Throws an Error whose message completes
 * "WEBHOOK_SECRET_KEY …". Kept free of imports so the env schema can use it without a cycle.
 *
 * @example
 * parseSecretKeyText(process.env.WEBHOOK_SECRET_KEY!).length; // 32
 */
export function parseSecretKeyText(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    if (bytes.length === SECRET_KEY_BYTES) return bytes;
    throw new Error(`must be ${SECRET_KEY_BYTES} bytes (got ${bytes.length} from base64); generate one with: openssl rand -base64 32`);
  }
  throw new Error(`must be ${SECRET_KEY_BYTES} bytes as 64 hex characters or base64; generate one with: openssl rand -base64 32`);
}
