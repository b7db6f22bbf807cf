/**
 * Python values as fail2ban's client prints them (`repr`). Integers are plain numbers;
 * floats are wrapped so that `5400.0` keeps its `.0` as Python prints it.
 */

/** A Python float: printed with `repr(float)`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python dict with string keys, printed as `{'k': v}` in insertion order. */
export class PyDict {
  constructor(readonly entries: ReadonlyArray<readonly [string, PyValue]>) {}
}

/** The Python values the configuration stream holds. `null` is `None`. */
export type PyValue = string | number | bigint | boolean | null | PyFloat | PyDict | readonly PyValue[];

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function escapeChar(ch: string, quote: string): string {
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return '\\x' + code.toString(16).padStart(2, '0');
  if (code < 0x7f || ch === ' ') return ch;
  if (!NON_PRINTABLE.test(ch)) return ch;
  if (code <= 0xff) return '\\x' + code.toString(16).padStart(2, '0');
  if (code <= 0xffff) return '\\u' + code.toString(16).padStart(4, '0');
  return '\\U' + code.toString(16).padStart(8, '0');
}

/** `repr(str)` exactly as CPython 3 prints it. */
export function pyReprString(s: string): string {
  if (/^[ !#-&(-[\]-~]*$/.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) out += escapeChar(ch, quote);
  return out + quote;
}

/** `repr(float)`: the shortest round-tripping form, with `.0` on integral values. */
export function pyReprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Object.is(x, -0)) return '-0.0';
  const abs = Math.abs(x);
  if (abs >= 1e16 || (abs < 1e-4 && abs !== 0)) {
    // Python switches to exponent form at 1e16 and below 1e-4: 1e+16, 1e-05.
    const [mant = '', exp = '0'] = x.toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  const text = String(x);
  return text.includes('.') ? text : text + '.0';
}

/** `repr(value)` for the values the stream holds. */
export function pyRepr(value: PyValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pyReprString(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof PyFloat) return pyReprFloat(value.value);
  if (value instanceof PyDict) return '{' + value.entries.map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`).join(', ') + '}';
  return '[' + value.map(pyRepr).join(', ') + ']';
}
