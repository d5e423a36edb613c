const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a canonical uuid. Checked before a value reaches a `uuid` column, where anything
 * else would fail the cast with an error rather than simply match nothing.
 *
 * @example
 * isUuid('0b7e0f4c-3c4e-4f3e-9a4e-2f1d7c9b8a61'); // true
 * isUuid('nope');                                  // false
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
