/** Conversions of evaluator numbers: Python's repr, the project's PyValue form, plain JS numbers. */
import { PyFloat, pyReprFloat } from '../pyvalue.js';
import { TWO53 } from './intFloat.js';
import type { PyNumeric } from './types.js';

/** `repr()` of a number as Python prints it. */
export function pyNumericRepr(v: PyNumeric): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return typeof v === 'bigint' ? v.toString() : pyReprFloat(v);
}

/** The project's PyValue form: int as number (bigint past 2**53), float as PyFloat, bool as boolean. */
export function pyNumericToValue(v: PyNumeric): number | bigint | PyFloat | boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return new PyFloat(v);
  return v >= -TWO53 && v <= TWO53 ? Number(v) : v;
}

/** The evaluator's form of a PyValue number: number → int, PyFloat → float. */
export function pyNumericFromValue(v: number | bigint | PyFloat | boolean): PyNumeric {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  return v;
}

/** As a JS number (ints rounded to the nearest double). */
export function pyNumericToNumber(v: PyNumeric): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'bigint' ? Number(v) : v;
}
