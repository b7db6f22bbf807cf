/** Python's `round()` builtin: round-half-even on exact rationals, for ints, floats and ndigits. */
import { argErr, arity, asInt, floatToInt } from './builtinArgs.js';
import { floorDivInt } from './intFloat.js';
import { MAX_INT_BITS, PyExprError, type PyNumeric } from './types.js';

/** The exact value of a finite float as mantissa * 2**exponent. */
function floatParts(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  let e = 0;
  let m = Math.abs(x);
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  const mant = BigInt(m);
  return [x < 0 ? -mant : mant, e];
}

/** Round-half-even of the rational num/den (den > 0). */
function roundRational(num: bigint, den: bigint): bigint {
  const q = floorDivInt(num, den);
  const r2 = (num - q * den) * 2n;
  if (r2 > den || (r2 === den && q % 2n !== 0n)) return q + 1n;
  return q;
}

function roundFloat(x: number, nd: bigint): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (nd > 330n) return x;
  if (nd < -330n) return 0 * x;
  const [m, e] = floatParts(x);
  const n = Number(nd);
  // x * 10**n = m * 2**e * 10**n, rounded to an integer k; the result is k / 10**n, correctly rounded.
  let num = m * (n >= 0 ? 10n ** BigInt(n) : 1n);
  let den = n < 0 ? 10n ** BigInt(-n) : 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  const k = roundRational(num, den);
  const r = Number(`${k}e${-n}`);
  if (!Number.isFinite(r)) throw new PyExprError('OverflowError', 'rounded value too large to represent', -1);
  return r === 0 ? (x < 0 ? -0 : 0) : r;
}

export function pyRoundBuiltin(args: readonly PyNumeric[]): PyNumeric {
  arity('round', args, 1, 2);
  const x = asInt(args[0] as PyNumeric);
  if (args.length === 1) {
    if (typeof x === 'bigint') return x;
    if (!Number.isFinite(x)) return floatToInt(x);
    return roundRational(...((): [bigint, bigint] => {
      const [m, e] = floatParts(x);
      return e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)];
    })());
  }
  const nd = asInt(args[1] as PyNumeric);
  if (typeof nd !== 'bigint') throw argErr("'float' object cannot be interpreted as an integer");
  if (typeof x === 'number') return roundFloat(x, nd);
  if (nd >= 0n) return x;
  if (nd < -BigInt(MAX_INT_BITS)) return 0n;
  const p = 10n ** -nd;
  return roundRational(x, p) * p;
}
