/** Argument helpers of the builtins: function values, arity checks, int/float coercions with Python's errors. */
import { intToFloat } from './intFloat.js';
import { PyExprError, type PyFunction, type PyNumeric } from './types.js';

export const fn = (name: string, call: (args: readonly PyNumeric[]) => PyNumeric): PyFunction => ({ kind: 'function', name, call });
export const argErr = (detail: string): PyExprError => new PyExprError('TypeError', detail, -1);

export function toFloatArg(v: PyNumeric): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'bigint' ? intToFloat(v, -1) : v;
}

export function asInt(v: PyNumeric): bigint | number {
  return typeof v === 'boolean' ? (v ? 1n : 0n) : v;
}

export function floatToInt(x: number): bigint {
  if (Number.isNaN(x)) throw new PyExprError('ValueError', 'cannot convert float NaN to integer', -1);
  if (!Number.isFinite(x)) throw new PyExprError('OverflowError', 'cannot convert float infinity to integer', -1);
  return BigInt(Math.trunc(x));
}

export function arity(name: string, args: readonly PyNumeric[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `exactly ${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
    throw argErr(`${name}() takes ${want} (${args.length} given)`);
  }
}
