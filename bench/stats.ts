/** The summary every bench prints: min / median / max of repeated measurements (the upper median for even counts). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** `min / median / max`, each with `digits` decimals. */
export const spread = (xs: readonly number[], digits = 0): string =>
  [Math.min(...xs), median(xs), Math.max(...xs)].map((x) => x.toFixed(digits)).join(' / ');
