/**
 * Remembers tokens that verified, so a caller sending the same bearer token on every request
 * pays for the signature check once a minute instead of on every request (the check was a
 * quarter of an authenticated enqueue's CPU: bench/profile.ts). The key is the whole token,
 * signature included, so only the exact bytes that verified are ever accepted from it; an entry
 * never outlives the token's `exp`, nor `maxAgeMs` (the bound on how long a key removed from a
 * JWKS keeps working, next to jose's own JWKS cache of 10 minutes).
 */
export interface VerifiedTokenCache<T> {
  get(token: string, now?: number): T | undefined;
  /** `expiresAt`: the token's `exp` in epoch ms, if it has one. */
  set(token: string, value: T, expiresAt: number | undefined, now?: number): void;
}

export function createVerifiedTokenCache<T>(options: { maxEntries: number; maxAgeMs: number }): VerifiedTokenCache<T> {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    get(token, now = Date.now()) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.until > now) return entry.value;
      entries.delete(token);
      return undefined;
    },
    set(token, value, expiresAt, now = Date.now()) {
      const until = Math.min(now + options.maxAgeMs, expiresAt ?? Number.POSITIVE_INFINITY);
      if (until <= now) return;
      entries.delete(token);
      // Oldest first out: a Map iterates in insertion order.
      if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(token, { value, until });
    },
  };
}
