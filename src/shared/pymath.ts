/** Python's numeric rules where they differ from JavaScript's. */

/** Python 3 `round(x)` of a float: to the nearest integer, halves to the even neighbour. */
export function pyRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
