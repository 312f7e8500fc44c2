/** The summary every bench prints: min / median / max of repeated measurements (the upper median for even counts). */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spreadOf(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor(s.length / 2)] ?? NaN, max: s.at(-1) ?? NaN };
}

export const median = (xs: readonly number[]): number => spreadOf(xs).median;

/** `min / median / max`, each with `digits` decimals. */
export function spread(xs: readonly number[], digits = 0): string {
  const { min, median: mid, max } = spreadOf(xs);
  return [min, mid, max].map((x) => x.toFixed(digits)).join(' / ');
}
