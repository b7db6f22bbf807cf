/**
 * Exact int and float primitives as CPython computes them: bit length and the int size cap,
 * correctly rounded int → float and int true division, floor division, float divmod.
 */
import { MAX_INT_BITS, PyExprError } from './types.js';

export const TWO53 = 2n ** 53n;

export function bitLength(v: bigint): number {
  return (v < 0n ? -v : v).toString(2).length;
}

export function checkSize(v: bigint, pos: number): bigint {
  if (v !== 0n && bitLength(v) > MAX_INT_BITS) throw new PyExprError('LimitError', `int larger than ${MAX_INT_BITS} bits`, pos);
  return v;
}

/** `float(int)`, correctly rounded; OverflowError past the float range. */
export function intToFloat(v: bigint, pos = 0): number {
  const f = Number(v);
  if (!Number.isFinite(f)) throw new PyExprError('OverflowError', 'int too large to convert to float', pos);
  return f;
}

export function scaleByPowerOfTwo(x: number, k: number): number {
  let r = x;
  let e = k;
  while (e > 1000) {
    r *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    r *= 2 ** -1000;
    e += 1000;
  }
  return r * 2 ** e;
}

/** `a / b` for ints, correctly rounded as CPython does (not float(a)/float(b) for big ints). */
export function intTrueDiv(a: bigint, b: bigint, pos: number): number {
  if (b === 0n) throw new PyExprError('ZeroDivisionError', 'division by zero', pos);
  const negative = a < 0n !== b < 0n;
  const na = a < 0n ? -a : a;
  const nb = b < 0n ? -b : b;
  if (na <= TWO53 && nb <= TWO53) return Number(a) / Number(b);
  const shift = bitLength(na) - bitLength(nb) - 55;
  const num = shift < 0 ? na << BigInt(-shift) : na;
  const den = shift > 0 ? nb << BigInt(shift) : nb;
  let q = num / den;
  const sticky = num % den !== 0n;
  const qbits = bitLength(q);
  const exp = qbits + shift;
  const precision = Math.min(53, exp + 1074);
  const drop = qbits - precision;
  if (drop > 0) {
    const rem = q & ((1n << BigInt(drop)) - 1n);
    const half = 1n << BigInt(drop - 1);
    q >>= BigInt(drop);
    if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q += 1n;
  }
  const r = scaleByPowerOfTwo(Number(q), shift + Math.max(drop, 0));
  if (!Number.isFinite(r)) throw new PyExprError('OverflowError', 'integer division result too large for a float', pos);
  return negative ? -r : r;
}

export function floorDivInt(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** CPython's float divmod (result of `%` has the divisor's sign; `//` from fmod). */
export function floatDivmod(a: number, b: number, pos: number, what: string): [number, number] {
  if (b === 0) throw new PyExprError('ZeroDivisionError', what, pos);
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else mod = b < 0 ? -0 : 0;
  let floordiv: number;
  if (div !== 0) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else floordiv = Object.is(a / b, -0) || a / b < 0 ? -0 : 0;
  return [floordiv, mod];
}
