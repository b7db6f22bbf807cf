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

/** A Python tuple (printed `(a, b)`, `(a,)`, `()`); plain arrays are lists. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/**
 * A Python exception instance as it crosses the control socket (`fail2ban.exceptions.UnknownJailException('nojail')`):
 * `module` and `name` name its class, `args` are its constructor arguments.
 */
export class PyException {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: readonly PyValue[],
  ) {}

  /** Python's `str(exc)`: the single argument's str, '' without arguments, else the repr of the args tuple. */
  toString(): string {
    if (this.args.length === 0) return '';
    if (this.args.length === 1) return pyStr(this.args[0] ?? null);
    return pyRepr(new PyTuple(this.args));
  }
}

/** The Python values the configuration stream and the control socket carry. `null` is `None`. */
export type PyValue = string | number | bigint | boolean | null | PyFloat | PyDict | PyTuple | PyException | readonly PyValue[];

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
  if (value instanceof PyTuple) return value.items.length === 1 ? `(${pyRepr(value.items[0] ?? null)},)` : '(' + value.items.map(pyRepr).join(', ') + ')';
  if (value instanceof PyException) return `${value.name}(${value.args.map(pyRepr).join(', ')})`;
  return '[' + value.map(pyRepr).join(', ') + ']';
}

/** A Python number (int, big int, bool or float) as a JavaScript number. */
export function pyNumber(v: number | bigint | boolean | PyFloat): number {
  return v instanceof PyFloat ? v.value : Number(v);
}

/** Python's `str(value)`: strings as they are, everything else as its repr. */
export function pyStr(value: PyValue): string {
  if (typeof value === 'string') return value;
  if (value instanceof PyException) return value.toString();
  return pyRepr(value);
}

/** Python's `_as_bool`: strings `1/on/true/yes` (any case), anything else by truthiness. */
export function pyAsBool(value: PyValue): boolean {
  if (typeof value === 'string') return ['1', 'on', 'true', 'yes'].includes(value.toLowerCase());
  if (value === null) return false;
  if (typeof value === 'number' || typeof value === 'bigint') return value !== 0 && value !== 0n;
  if (typeof value === 'boolean') return value;
  if (value instanceof PyFloat) return value.value !== 0;
  return true;
}
