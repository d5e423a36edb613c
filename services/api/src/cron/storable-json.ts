/**
 * What Postgres refuses in `text` and `jsonb` although JSON allows it: NUL characters and
 * unpaired UTF-16 surrogates (Postgres answers those with an error, which would be a 500).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deeper payloads are refused: Postgres' jsonb parser would run out of stack on absurd nesting. */
export const MAX_PAYLOAD_DEPTH = 32;

export const UNSTORABLE_TEXT = 'must not contain NUL characters or unpaired surrogates';

/**
 * True when Postgres can store `text` as it is.
 *
 * @example
 * isStorableText('nightly'); // true
 * isStorableText('a\u0000b'); // false
 */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The first place in a parsed JSON value that a jsonb column would refuse (a string or key
 * {@link isStorableText} rejects, or nesting past {@link MAX_PAYLOAD_DEPTH}), or undefined.
 * Iterative, so a hostile depth cannot overflow the stack here either.
 *
 * @example
 * findUnstorable({ a: ['ok', 'x\u0000'] }); // { path: ['a', 1], message: 'must not contain …' }
 */
export function findUnstorable(value: unknown): { path: (string | number)[]; message: string } | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { path, message: UNSTORABLE_TEXT };
    } else if (typeof current === 'object' && current !== null) {
      if (path.length >= MAX_PAYLOAD_DEPTH) return { path, message: `nests deeper than ${MAX_PAYLOAD_DEPTH} levels` };
      const entries: [string | number, unknown][] = Array.isArray(current) ? current.map((v, i) => [i, v]) : Object.entries(current);
      for (const [key, child] of entries) {
        if (typeof key === 'string' && !isStorableText(key)) return { path: [...path, key], message: `key ${UNSTORABLE_TEXT}` };
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}
