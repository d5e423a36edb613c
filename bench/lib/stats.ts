/** Small statistics helpers for the benchmarks. */

/** Nearest-rank percentile (`p` in 0..100) of `values`; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** `1234.5` → `"1,235"`. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with two decimals. */
export function fmtMs(n: number): string {
  return `${n.toFixed(2)} ms`;
}

/** `0.934` → `"93.4%"`. */
export function fmtPct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}
