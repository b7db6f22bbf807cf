/**
 * Python's operators on numbers: `**` (int and float, CPython's special cases), the binary
 * arithmetic and bit operators, exact mixed int/float comparisons, truth value, unary operators.
 */
import { powOf } from './doubleDouble.js';
import { bitLength, checkSize, floatDivmod, floorDivInt, intToFloat, intTrueDiv } from './intFloat.js';
import { MAX_INT_BITS, PyExprError, pyTypeName, type PyNumeric, type PyScopeValue } from './types.js';

export const isOddInteger = (x: number): boolean => Number.isInteger(x) && Math.abs(x % 2) === 1;

/** CPython's `float ** float`. */
export function floatPow(iv: number, iw: number, pos: number): number {
  if (iw === 0) return 1;
  if (Number.isNaN(iv)) return iv;
  if (Number.isNaN(iw)) return iv === 1 ? 1 : iw;
  if (!Number.isFinite(iw)) {
    const a = Math.abs(iv);
    if (a === 1) return 1;
    return iw > 0 === a > 1 ? Math.abs(iw) : 0;
  }
  if (!Number.isFinite(iv)) {
    const odd = isOddInteger(iw);
    if (iw > 0) return odd ? iv : Math.abs(iv);
    return odd ? (iv < 0 ? -0 : 0) : 0;
  }
  if (iv === 0) {
    if (iw < 0) throw new PyExprError('ZeroDivisionError', '0.0 cannot be raised to a negative power', pos);
    return isOddInteger(iw) ? iv : 0;
  }
  let base = iv;
  let negate = false;
  if (base < 0) {
    if (!Number.isInteger(iw)) throw new PyExprError('Unsupported', 'complex results are not supported', pos);
    negate = isOddInteger(iw);
    base = -base;
  }
  if (base === 1) return negate ? -1 : 1;
  const r = powOf(base, iw);
  if (!Number.isFinite(r)) throw new PyExprError('OverflowError', "(34, 'Numerical result out of range')", pos);
  return negate ? -r : r;
}

function intPow(a: bigint, b: bigint, pos: number): bigint | number {
  if (b < 0n) {
    if (a === 0n) throw new PyExprError('ZeroDivisionError', '0.0 cannot be raised to a negative power', pos);
    return floatPow(intToFloat(a, pos), intToFloat(b, pos), pos);
  }
  if (a === 0n || a === 1n) return b === 0n ? 1n : a;
  if (a === -1n) return b % 2n === 0n ? 1n : -1n;
  if (b > BigInt(MAX_INT_BITS) || (bitLength(a) - 1) * Number(b) > MAX_INT_BITS) {
    throw new PyExprError('LimitError', `int larger than ${MAX_INT_BITS} bits`, pos);
  }
  return checkSize(a ** b, pos);
}

function asNumber(v: PyScopeValue, op: string, other: PyScopeValue, pos: number): bigint | number {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw new PyExprError('TypeError', `unsupported operand type(s) for ${op}: '${pyTypeName(v)}' and '${pyTypeName(other)}'`, pos);
}

function intBinary(op: string, a: bigint, b: bigint, pos: number): PyNumeric {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*':
      if (a !== 0n && b !== 0n && bitLength(a) + bitLength(b) > MAX_INT_BITS + 1) checkSize(1n << BigInt(MAX_INT_BITS + 1), pos);
      return checkSize(a * b, pos);
    case '/': return intTrueDiv(a, b, pos);
    case '//':
      if (b === 0n) throw new PyExprError('ZeroDivisionError', 'integer division or modulo by zero', pos);
      return floorDivInt(a, b);
    case '%': {
      if (b === 0n) throw new PyExprError('ZeroDivisionError', 'integer modulo by zero', pos);
      return a - floorDivInt(a, b) * b;
    }
    case '**': return intPow(a, b, pos);
    case '<<':
      if (b < 0n) throw new PyExprError('ValueError', 'negative shift count', pos);
      if (a === 0n) return 0n;
      if (b > BigInt(MAX_INT_BITS)) checkSize(1n << BigInt(MAX_INT_BITS + 1), pos);
      return checkSize(a << b, pos);
    case '>>':
      if (b < 0n) throw new PyExprError('ValueError', 'negative shift count', pos);
      return b > BigInt(MAX_INT_BITS + 64) ? (a < 0n ? -1n : 0n) : a >> b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    default: throw new PyExprError('SyntaxError', `unknown operator ${op}`, pos);
  }
}

function floatBinary(op: string, a: number, b: number, pos: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/':
      if (b === 0) throw new PyExprError('ZeroDivisionError', 'float division by zero', pos);
      return a / b;
    case '//': return floatDivmod(a, b, pos, 'float floor division by zero')[0];
    case '%': return floatDivmod(a, b, pos, 'float modulo')[1];
    case '**': return floatPow(a, b, pos);
    default: throw new PyExprError('TypeError', `unsupported operand type(s) for ${op}: 'float' and 'float'`, pos);
  }
}

export function binary(op: string, x: PyScopeValue, y: PyScopeValue, pos: number): PyNumeric {
  if (typeof x === 'boolean' && typeof y === 'boolean' && (op === '&' || op === '|' || op === '^')) {
    return op === '&' ? x && y : op === '|' ? x || y : x !== y;
  }
  const a = asNumber(x, op, y, pos);
  const b = asNumber(y, op, x, pos);
  if (typeof a === 'bigint' && typeof b === 'bigint') return intBinary(op, a, b, pos);
  if (op === '&' || op === '|' || op === '^' || op === '<<' || op === '>>') {
    throw new PyExprError('TypeError', `unsupported operand type(s) for ${op}: '${pyTypeName(x)}' and '${pyTypeName(y)}'`, pos);
  }
  const fa = typeof a === 'bigint' ? intToFloat(a, pos) : a;
  const fb = typeof b === 'bigint' ? intToFloat(b, pos) : b;
  return floatBinary(op, fa, fb, pos);
}

/** Exact comparison of an int with a float, as Python does it (-1, 0, 1, or NaN when unordered). */
function compareIntFloat(i: bigint, f: number): number {
  if (Number.isNaN(f)) return NaN;
  if (!Number.isFinite(f)) return f > 0 ? -1 : 1;
  const fl = Math.floor(f);
  const bf = BigInt(fl);
  if (i < bf) return -1;
  if (i > bf) return 1;
  return f > fl ? -1 : 0;
}

function compareValues(x: PyScopeValue, y: PyScopeValue, op: string, pos: number): number {
  const a = asNumber(x, op, y, pos);
  const b = asNumber(y, op, x, pos);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
  if (typeof a === 'bigint') return compareIntFloat(a, b as number);
  return -compareIntFloat(b as bigint, a);
}

export function compare(op: string, x: PyScopeValue, y: PyScopeValue, pos: number): boolean {
  if ((op === '==' || op === '!=') && (typeof x === 'object' || typeof y === 'object')) return (x === y) === (op === '==');
  if (typeof x === 'object' || typeof y === 'object') {
    throw new PyExprError('TypeError', `'${op}' not supported between instances of '${pyTypeName(x)}' and '${pyTypeName(y)}'`, pos);
  }
  const c = compareValues(x, y, op, pos);
  switch (op) {
    case '<': return c < 0;
    case '>': return c > 0;
    case '<=': return c <= 0;
    case '>=': return c >= 0;
    case '==': return c === 0;
    default: return !(c === 0);
  }
}

/** Python's truth value. */
export function pyTruthy(v: PyScopeValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  return true;
}

export function unary(op: string, v: PyScopeValue, pos: number): PyNumeric {
  if (op === 'not') return !pyTruthy(v);
  if (typeof v === 'object') throw new PyExprError('TypeError', `bad operand type for unary ${op}: '${pyTypeName(v)}'`, pos);
  const n = typeof v === 'boolean' ? (v ? 1n : 0n) : v;
  if (op === '~') {
    if (typeof n === 'number') throw new PyExprError('TypeError', "bad operand type for unary ~: 'float'", pos);
    return ~n;
  }
  if (op === '-') return typeof n === 'bigint' ? -n : -n;
  return n;
}
