/**
 * Python values tagged with their type for the trip to the system Python: ints, floats, dict
 * order and lone surrogates cross intact (JSON alone loses `1.0` vs `1` and cannot carry -0.0).
 * `PY_UNTAG` is the Python function `un(t)` that rebuilds the value.
 */
import { PyDict, PyFloat, PyTuple } from '../../src/shared/pyvalue.js';

export type Tagged = readonly [string, ...unknown[]];

function floatText(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  return String(x); // float('NaN'), float('Infinity'), float('1e-7') all parse
}

export function tagPy(v: unknown): Tagged {
  if (typeof v === 'string') return ['s', v];
  if (typeof v === 'boolean') return ['b', v];
  if (v === null) return ['n'];
  if (typeof v === 'bigint') return ['i', v.toString()];
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? ['i', BigInt(v).toString()] : ['f', floatText(v)];
  if (v instanceof PyFloat) return ['f', floatText(v.value)];
  if (v instanceof PyTuple) return ['l', v.items.map(tagPy)];
  if (Array.isArray(v)) return ['l', (v as unknown[]).map(tagPy)];
  if (v instanceof PyDict) return ['d', v.entries.map(([k, x]) => [k, tagPy(x)])];
  throw new Error(`cannot tag a ${typeof v}`);
}

export const PY_UNTAG = `
def un(t):
    k = t[0]
    if k == 's': return t[1]
    if k == 'i': return int(t[1])
    if k == 'f': return float(t[1])
    if k == 'b': return t[1]
    if k == 'n': return None
    if k == 'l': return [un(x) for x in t[1]]
    if k == 'd': return {kk: un(v) for kk, v in t[1]}
    raise ValueError(k)
`;
