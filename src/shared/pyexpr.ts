/**
 * A safe evaluator for the Python expressions fail2ban hands to `eval` in `bantime.factor` and
 * `bantime.formula`: numbers, arithmetic, bit operations, comparisons, `and`/`or`/`not`,
 * `a if c else b`, names and attributes from a given scope, calls with positional arguments.
 * Anything else (strings, subscripts, lambdas, dunder attributes, keyword arguments…) is refused
 * with a typed `PyExprError` at compile time, so nothing outside the grammar is ever evaluated.
 *
 * Values follow Python's numeric model: an int is a `bigint` (exact, no overflow), a float a
 * `number`, a bool a `boolean` (1/0 in arithmetic). `/` gives a float, `//` and `%` floor, int
 * to float conversion and int true division are correctly rounded, int sizes are capped
 * (`9**9**9` is an error, not a hang).
 */
import { PortcullisError } from './errors.js';
import { PyFloat, pyReprFloat } from './pyvalue.js';

/** A Python number: int (`bigint`), float (`number`) or bool. */
export type PyNumeric = bigint | number | boolean;

/** A callable the scope offers (`min`, `math.exp`, `random.random` …). */
export interface PyFunction {
  readonly kind: 'function';
  readonly name: string;
  readonly call: (args: readonly PyNumeric[]) => PyNumeric;
}

/** An object with attributes (`ban`, `math`, `random`). */
export interface PyNamespace {
  readonly kind: 'namespace';
  readonly name: string;
  readonly attrs: ReadonlyMap<string, PyScopeValue>;
}

export type PyScopeValue = PyNumeric | PyFunction | PyNamespace;
export type PyScope = ReadonlyMap<string, PyScopeValue>;

/** Why an expression was refused or failed; `pyType` is the Python exception class it stands for. */
export class PyExprError extends PortcullisError {
  constructor(
    readonly pyType: string,
    readonly detail: string,
    readonly position: number,
  ) {
    super('E_PYEXPR', `${pyType}: ${detail} (at ${position})`);
  }
}

/** Largest int (in bits) an expression may build; Python has no limit, we refuse instead of hanging. */
export const MAX_INT_BITS = 65536;
const MAX_DEPTH = 100;
const MAX_LENGTH = 10000;

// ---------------------------------------------------------------------------------------------
// Tokens and syntax tree

type Token =
  | { readonly k: 'num'; readonly v: bigint | number; readonly pos: number }
  | { readonly k: 'name'; readonly v: string; readonly pos: number }
  | { readonly k: 'op'; readonly v: string; readonly pos: number }
  | { readonly k: 'end'; readonly pos: number };

type Node =
  | { readonly t: 'const'; readonly v: PyNumeric; readonly pos: number }
  | { readonly t: 'name'; readonly name: string; readonly pos: number }
  | { readonly t: 'attr'; readonly obj: Node; readonly name: string; readonly pos: number }
  | { readonly t: 'call'; readonly fn: Node; readonly args: readonly Node[]; readonly pos: number }
  | { readonly t: 'unary'; readonly op: string; readonly arg: Node; readonly pos: number }
  | { readonly t: 'bin'; readonly op: string; readonly l: Node; readonly r: Node; readonly pos: number }
  | { readonly t: 'bool'; readonly op: 'and' | 'or'; readonly items: readonly Node[]; readonly pos: number }
  | { readonly t: 'cmp'; readonly first: Node; readonly ops: readonly string[]; readonly rest: readonly Node[]; readonly pos: number }
  | { readonly t: 'if'; readonly cond: Node; readonly then: Node; readonly other: Node; readonly pos: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'if', 'else', 'True', 'False', 'None', 'lambda', 'in', 'is', 'for', 'import',
  'from', 'as', 'await', 'yield', 'async', 'def', 'class', 'return', 'del', 'global', 'nonlocal', 'pass', 'raise',
  'try', 'except', 'finally', 'while', 'with', 'assert', 'break', 'continue', 'elif']);
const NUMBER_END_KEYWORDS = ['and', 'else', 'for', 'if', 'in', 'is', 'not', 'or'];
const OPS = ['**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+', '-', '*', '/', '%', '&', '|', '^', '~', '<', '>', '(', ')', ',', '.'];
const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER_RE = new RegExp(
  String.raw`0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?`,
  'y',
);

const syntax = (detail: string, pos: number): PyExprError => new PyExprError('SyntaxError', detail, pos);

function numberValue(text: string, pos: number): bigint | number {
  const clean = text.replaceAll('_', '');
  if (/^0[xob]/i.test(clean)) return BigInt(clean);
  if (/[.eE]/.test(clean)) return Number(clean);
  if (/^0+[1-9]/.test(clean)) throw syntax('leading zeros in decimal integer literals are not permitted', pos);
  if (clean.length > 4300) throw syntax('Exceeds the limit (4300 digits) for integer string conversion', pos);
  return BigInt(clean);
}

function tokenize(src: string): Token[] {
  if (src.length > MAX_LENGTH) throw new PyExprError('Unsupported', `expression longer than ${MAX_LENGTH} characters`, 0);
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const num = /[\d.]/.test(c) ? NUMBER_RE.exec(src) : null;
    if (num !== null && num[0] !== '.') {
      const end = i + num[0].length;
      const rest = src.slice(end, end + 6);
      if (/^[jJ]/.test(rest)) throw new PyExprError('Unsupported', 'complex numbers are not supported', i);
      if (/^[\p{L}\p{N}_]/u.test(rest) && !NUMBER_END_KEYWORDS.some((k) => rest.startsWith(k))) throw syntax('invalid decimal literal', i);
      tokens.push({ k: 'num', v: numberValue(num[0], i), pos: i });
      i = end;
      continue;
    }
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i, i + 200));
    if (name !== null) {
      tokens.push({ k: 'name', v: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) {
      const what = c === "'" || c === '"' ? 'strings are not supported' : `character ${JSON.stringify(c)} is not supported`;
      throw new PyExprError(c === "'" || c === '"' ? 'Unsupported' : 'SyntaxError', what, i);
    }
    tokens.push({ k: 'op', v: op, pos: i });
    i += op.length;
  }
  tokens.push({ k: 'end', pos: src.length });
  return tokens;
}

/** Recursive descent over Python's expression grammar (the subset above); builds the tree, evaluates nothing. */
class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly toks: readonly Token[]) {}

  parse(): Node {
    const node = this.expression();
    const t = this.peek();
    if (t.k !== 'end') throw syntax('invalid syntax', t.pos);
    return node;
  }

  private peek(): Token {
    return this.toks[this.i] ?? { k: 'end', pos: 0 };
  }

  private isOp(...ops: string[]): string | undefined {
    const t = this.peek();
    return t.k === 'op' && ops.includes(t.v) ? t.v : undefined;
  }

  private isWord(w: string): boolean {
    const t = this.peek();
    return t.k === 'name' && t.v === w;
  }

  private expect(op: string): void {
    if (this.isOp(op) === undefined) throw syntax(`expected '${op}'`, this.peek().pos);
    this.i++;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) throw new PyExprError('Unsupported', `expression nested deeper than ${MAX_DEPTH}`, pos);
  }

  private expression(): Node {
    this.enter(this.peek().pos);
    if (this.isWord('lambda')) throw new PyExprError('Unsupported', 'lambda is not supported', this.peek().pos);
    const then = this.disjunction();
    let node = then;
    if (this.isWord('if')) {
      const pos = this.peek().pos;
      this.i++;
      const cond = this.disjunction();
      if (!this.isWord('else')) throw syntax("expected 'else' after 'if' expression", this.peek().pos);
      this.i++;
      node = { t: 'if', cond, then, other: this.expression(), pos };
    }
    this.depth--;
    return node;
  }

  private boolChain(op: 'and' | 'or', next: () => Node): Node {
    const pos = this.peek().pos;
    const first = next();
    if (!this.isWord(op)) return first;
    const items = [first];
    while (this.isWord(op)) {
      this.i++;
      items.push(next());
    }
    return { t: 'bool', op, items, pos };
  }

  private disjunction(): Node {
    return this.boolChain('or', () => this.conjunction());
  }

  private conjunction(): Node {
    return this.boolChain('and', () => this.inversion());
  }

  private inversion(): Node {
    if (!this.isWord('not')) return this.comparison();
    const pos = this.peek().pos;
    this.i++;
    this.enter(pos);
    const arg = this.inversion();
    this.depth--;
    return { t: 'unary', op: 'not', arg, pos };
  }

  private comparison(): Node {
    const pos = this.peek().pos;
    const first = this.binary(0);
    const ops: string[] = [];
    const rest: Node[] = [];
    for (;;) {
      const t = this.peek();
      const next = this.toks[this.i + 1];
      if (t.k === 'name' && (t.v === 'in' || t.v === 'is' || (t.v === 'not' && next?.k === 'name' && next.v === 'in'))) {
        throw new PyExprError('Unsupported', `'${t.v}' comparisons are not supported`, t.pos);
      }
      const op = this.isOp('<', '>', '==', '!=', '<=', '>=');
      if (op === undefined) break;
      this.i++;
      ops.push(op);
      rest.push(this.binary(0));
    }
    return ops.length === 0 ? first : { t: 'cmp', first, ops, rest, pos };
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%']];

  private binary(level: number): Node {
    const ops = Parser.LEVELS[level];
    if (ops === undefined) return this.factor();
    let left = this.binary(level + 1);
    for (let op = this.isOp(...ops); op !== undefined; op = this.isOp(...ops)) {
      const pos = this.peek().pos;
      this.i++;
      left = { t: 'bin', op, l: left, r: this.binary(level + 1), pos };
    }
    return left;
  }

  private factor(): Node {
    const op = this.isOp('-', '+', '~');
    if (op === undefined) return this.power();
    const pos = this.peek().pos;
    this.i++;
    this.enter(pos);
    const arg = this.factor();
    this.depth--;
    return { t: 'unary', op, arg, pos };
  }

  private power(): Node {
    const base = this.primary();
    if (this.isOp('**') === undefined) return base;
    const pos = this.peek().pos;
    this.i++;
    this.enter(pos);
    const exp = this.factor();
    this.depth--;
    return { t: 'bin', op: '**', l: base, r: exp, pos };
  }

  private primary(): Node {
    let node = this.atom();
    for (;;) {
      const t = this.peek();
      if (this.isOp('.') !== undefined) {
        this.i++;
        const name = this.peek();
        if (name.k !== 'name' || KEYWORDS.has(name.v)) throw syntax('invalid syntax', name.pos);
        if (name.v.startsWith('_')) throw new PyExprError('Unsupported', `attribute '${name.v}' is not accessible`, name.pos);
        this.i++;
        node = { t: 'attr', obj: node, name: name.v, pos: name.pos };
      } else if (this.isOp('(') !== undefined) {
        this.i++;
        this.enter(t.pos);
        node = { t: 'call', fn: node, args: this.callArgs(), pos: t.pos };
        this.depth--;
      } else return node;
    }
  }

  private callArgs(): Node[] {
    const args: Node[] = [];
    while (this.isOp(')') === undefined) {
      const t = this.peek();
      if (t.k === 'op' && (t.v === '*' || t.v === '**')) throw new PyExprError('Unsupported', 'starred arguments are not supported', t.pos);
      args.push(this.expression());
      if (this.peek().k === 'end') throw syntax("'(' was never closed", t.pos);
      if (this.isOp(')') !== undefined) break;
      this.expect(',');
    }
    this.i++;
    return args;
  }

  private atom(): Node {
    const t = this.peek();
    this.i++;
    switch (t.k) {
      case 'num':
        return { t: 'const', v: t.v, pos: t.pos };
      case 'name':
        if (t.v === 'True' || t.v === 'False') return { t: 'const', v: t.v === 'True', pos: t.pos };
        if (t.v === 'None') throw new PyExprError('Unsupported', 'None is not supported', t.pos);
        if (KEYWORDS.has(t.v)) throw syntax('invalid syntax', t.pos);
        if (t.v.startsWith('__')) throw new PyExprError('Unsupported', `name '${t.v}' is not accessible`, t.pos);
        return { t: 'name', name: t.v, pos: t.pos };
      case 'end':
        throw syntax('unexpected end of expression', t.pos);
      case 'op': {
        if (t.v !== '(') throw syntax('invalid syntax', t.pos);
        if (this.isOp(')') !== undefined) throw new PyExprError('Unsupported', 'tuples are not supported', t.pos);
        this.enter(t.pos);
        const inner = this.expression();
        if (this.isOp(',') !== undefined) throw new PyExprError('Unsupported', 'tuples are not supported', this.peek().pos);
        if (this.peek().k === 'end') throw syntax("'(' was never closed", t.pos);
        this.expect(')');
        this.depth--;
        return inner;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers

const TWO53 = 2n ** 53n;

/** Python's type name of a value, for TypeError texts. */
export function pyTypeName(v: PyScopeValue): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'boolean') return 'bool';
  return v.kind === 'function' ? 'builtin_function_or_method' : 'module';
}

function bitLength(v: bigint): number {
  return (v < 0n ? -v : v).toString(2).length;
}

function checkSize(v: bigint, pos: number): bigint {
  if (v !== 0n && bitLength(v) > MAX_INT_BITS) throw new PyExprError('LimitError', `int larger than ${MAX_INT_BITS} bits`, pos);
  return v;
}

/** `float(int)`, correctly rounded; OverflowError past the float range. */
export function intToFloat(v: bigint, pos = 0): number {
  const f = Number(v);
  if (!Number.isFinite(f)) throw new PyExprError('OverflowError', 'int too large to convert to float', pos);
  return f;
}

function scaleByPowerOfTwo(x: number, k: number): number {
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
function intTrueDiv(a: bigint, b: bigint, pos: number): number {
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

function floorDivInt(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** CPython's float divmod (result of `%` has the divisor's sign; `//` from fmod). */
function floatDivmod(a: number, b: number, pos: number, what: string): [number, number] {
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

// ---------------------------------------------------------------------------------------------
// exp, log and pow in double-double precision, rounded once at the end. V8's Math.exp/log/pow
// (fdlibm) are often one unit in the last place away from glibc's, whose results are (nearly
// always) the correctly rounded ones; computing with ~100 bits and rounding gives glibc's digits.

type DD = readonly [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function split(a: number): DD {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = quickTwoSum(s, e + t);
  return quickTwoSum(s2, e2 + f);
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function ddDiv(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  const r = ddAdd(a, ddMul([-q1, 0], b));
  return quickTwoSum(q1, r[0] / b[0]);
}

const LN2_DD: DD = [0.6931471805599453, 2.3190468138462996e-17];
const LN2_HI = 0.6931471803691238;
const LN2_MID = 1.9082149292705877e-10;
const LN2_LO = 1.1612227229362532e-26;

/** e**x for a double-double x with |x| < 746; the result is not yet scaled by 2**k. */
function expDD(x: DD): { readonly m: DD; readonly k: number } {
  const k = Math.round(x[0] / LN2_DD[0]);
  let r = ddAdd(x, [-k * LN2_HI, 0]);
  r = ddAdd(r, twoProd(-k, LN2_MID));
  r = ddAdd(r, [-k * LN2_LO, 0]);
  r = [r[0] / 512, r[1] / 512];
  let term: DD = r;
  let sum = ddAdd([1, 0], r);
  for (let n = 2; n <= 12; n++) {
    term = ddMul(term, r);
    term = ddDiv(term, [n, 0]);
    sum = ddAdd(sum, term);
  }
  for (let i = 0; i < 9; i++) sum = ddMul(sum, sum);
  return { m: sum, k };
}

function expOf(x: DD): number {
  if (x[0] > 710) return Infinity;
  if (x[0] < -746) return 0;
  const { m, k } = expDD(x);
  return scaleByPowerOfTwo(m[0] + m[1], k);
}

/** log(x) as a double-double, for a finite x > 0. */
function logDD(x: number): DD {
  let e = Math.floor(Math.log2(x));
  let m = scaleByPowerOfTwo(x, -e);
  while (m >= Math.SQRT2) {
    m /= 2;
    e++;
  }
  while (m < Math.SQRT1_2) {
    m *= 2;
    e--;
  }
  const s = ddDiv([m - 1, 0], twoSum(m, 1));
  const s2 = ddMul(s, s);
  let power: DD = s;
  let series: DD = s;
  for (let n = 3; n <= 61; n += 2) {
    power = ddMul(power, s2);
    series = ddAdd(series, ddDiv(power, [n, 0]));
    if (Math.abs(power[0]) < 1e-40) break;
  }
  return ddAdd(ddMul(LN2_DD, [e, 0]), [series[0] * 2, series[1] * 2]);
}

function logOf(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return -Infinity;
  if (x === 1) return 0;
  const r = logDD(x);
  return r[0] + r[1];
}

/** x ** y for finite x > 0 and finite y. */
function powOf(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (y === 1) return x;
  return expOf(ddMul(logDD(x), [y, 0]));
}

const isOddInteger = (x: number): boolean => Number.isInteger(x) && Math.abs(x % 2) === 1;

/** CPython's `float ** float`. */
function floatPow(iv: number, iw: number, pos: number): number {
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

function binary(op: string, x: PyScopeValue, y: PyScopeValue, pos: number): PyNumeric {
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

function compare(op: string, x: PyScopeValue, y: PyScopeValue, pos: number): boolean {
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

function unary(op: string, v: PyScopeValue, pos: number): PyNumeric {
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

// ---------------------------------------------------------------------------------------------
// Evaluation

function numeric(v: PyScopeValue, pos: number): PyNumeric {
  if (typeof v === 'object') throw new PyExprError('TypeError', `expression result is a ${pyTypeName(v)}, not a number`, pos);
  return v;
}

function evaluate(node: Node, scope: PyScope): PyScopeValue {
  switch (node.t) {
    case 'const': return node.v;
    case 'name': {
      const v = scope.get(node.name);
      if (v === undefined) throw new PyExprError('NameError', `name '${node.name}' is not defined`, node.pos);
      return v;
    }
    case 'attr': {
      const obj = evaluate(node.obj, scope);
      const v = typeof obj === 'object' && obj.kind === 'namespace' ? obj.attrs.get(node.name) : undefined;
      if (v === undefined) {
        throw new PyExprError('AttributeError', `'${pyTypeName(obj)}' object has no attribute '${node.name}'`, node.pos);
      }
      return v;
    }
    case 'call': {
      const fn = evaluate(node.fn, scope);
      if (typeof fn !== 'object' || fn.kind !== 'function') {
        throw new PyExprError('TypeError', `'${pyTypeName(fn)}' object is not callable`, node.pos);
      }
      const args = node.args.map((a) => numeric(evaluate(a, scope), a.pos));
      try {
        return fn.call(args);
      } catch (e) {
        if (e instanceof PyExprError && e.position < 0) throw new PyExprError(e.pyType, e.detail, node.pos);
        throw e;
      }
    }
    case 'unary': return unary(node.op, evaluate(node.arg, scope), node.pos);
    case 'bin': return binary(node.op, evaluate(node.l, scope), evaluate(node.r, scope), node.pos);
    case 'bool': {
      let v: PyScopeValue = false;
      for (const item of node.items) {
        v = evaluate(item, scope);
        if (pyTruthy(v) === (node.op === 'or')) return v;
      }
      return v;
    }
    case 'cmp': {
      let left = evaluate(node.first, scope);
      for (let k = 0; k < node.ops.length; k++) {
        const right = evaluate(node.rest[k] as Node, scope);
        if (!compare(node.ops[k] as string, left, right, node.pos)) return false;
        left = right;
      }
      return true;
    }
    case 'if': return pyTruthy(evaluate(node.cond, scope)) ? evaluate(node.then, scope) : evaluate(node.other, scope);
  }
}

/** A parsed expression, evaluated as often as needed against a scope. */
export class CompiledPyExpr {
  constructor(
    readonly source: string,
    private readonly tree: Node,
  ) {}

  /** Evaluates against `scope`; the result must be a number. Throws PyExprError. */
  evaluate(scope: PyScope): PyNumeric {
    return numeric(evaluate(this.tree, scope), 0);
  }
}

/** Parses `source` (Python `eval` mode, the subset above). Throws PyExprError for anything else. */
export function compilePyExpr(source: string): CompiledPyExpr {
  // Python's eval strips leading spaces and tabs and accepts trailing newlines.
  const text = source.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (/[\r\n]/.test(text)) throw syntax('multi-line expressions are not supported', text.search(/[\r\n]/));
  return new CompiledPyExpr(source, new Parser(tokenize(text)).parse());
}

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

// ---------------------------------------------------------------------------------------------
// The names fail2ban's formulas use

const fn = (name: string, call: (args: readonly PyNumeric[]) => PyNumeric): PyFunction => ({ kind: 'function', name, call });
const argErr = (detail: string): PyExprError => new PyExprError('TypeError', detail, -1);

function toFloatArg(v: PyNumeric): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'bigint' ? intToFloat(v, -1) : v;
}

function asInt(v: PyNumeric): bigint | number {
  return typeof v === 'boolean' ? (v ? 1n : 0n) : v;
}

function floatToInt(x: number): bigint {
  if (Number.isNaN(x)) throw new PyExprError('ValueError', 'cannot convert float NaN to integer', -1);
  if (!Number.isFinite(x)) throw new PyExprError('OverflowError', 'cannot convert float infinity to integer', -1);
  return BigInt(Math.trunc(x));
}

function arity(name: string, args: readonly PyNumeric[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `exactly ${min} argument${min === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
    throw argErr(`${name}() takes ${want} (${args.length} given)`);
  }
}

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

function pyRoundBuiltin(args: readonly PyNumeric[]): PyNumeric {
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

function minMax(name: string, wantGreater: boolean): PyFunction {
  return fn(name, (args) => {
    if (args.length === 0) throw argErr(`${name} expected at least 1 argument, got 0`);
    if (args.length === 1) throw argErr(`'${pyTypeName(args[0] as PyNumeric)}' object is not iterable`);
    let best = args[0] as PyNumeric;
    for (const v of args.slice(1)) if (compare(wantGreater ? '>' : '<', v, best, -1)) best = v;
    return best;
  });
}

function mathLog(args: readonly PyNumeric[]): number {
  arity('log', args, 1, 2);
  const ln = (v: PyNumeric): number => {
    const x = asInt(v);
    if (typeof x === 'bigint') {
      if (x <= 0n) throw new PyExprError('ValueError', 'math domain error', -1);
      const f = Number(x);
      if (Number.isFinite(f)) return logOf(f);
      // CPython: frexp of the int, then log(m) + log(2.0) * e.
      const e = bitLength(x);
      return logOf(Number(x >> BigInt(e - 64)) / 2 ** 64) + Math.LN2 * e;
    }
    if (!(x > 0) && !Number.isNaN(x)) throw new PyExprError('ValueError', 'math domain error', -1);
    return logOf(x);
  };
  const num = ln(args[0] as PyNumeric);
  if (args.length === 1) return num;
  const den = ln(args[1] as PyNumeric);
  if (den === 0) throw new PyExprError('ZeroDivisionError', 'float division by zero', -1);
  return num / den;
}

function mathPow(args: readonly PyNumeric[]): number {
  arity('pow', args, 2, 2);
  const x = toFloatArg(args[0] as PyNumeric);
  const y = toFloatArg(args[1] as PyNumeric);
  if (Number.isFinite(x) && Number.isFinite(y)) {
    if ((x === 0 && y < 0) || (x < 0 && !Number.isInteger(y))) throw new PyExprError('ValueError', 'math domain error', -1);
    const r = y === 0 || x === 1 ? 1 : x === 0 ? (isOddInteger(y) ? x : 0) : (x < 0 && isOddInteger(y) ? -1 : 1) * powOf(Math.abs(x), y);
    if (!Number.isFinite(r)) throw new PyExprError('OverflowError', 'math range error', -1);
    return r;
  }
  if (x === 1 || y === 0) return 1;
  return floatPow(x, y, -1);
}

function mathRound(name: 'floor' | 'ceil'): PyFunction {
  return fn(name, (args) => {
    arity(name, args, 1, 1);
    const x = asInt(args[0] as PyNumeric);
    if (typeof x === 'bigint') return x;
    return floatToInt(name === 'floor' ? Math.floor(x) : Math.ceil(x));
  });
}

function mathFn(name: string, f: (x: number) => number, domain: (x: number) => boolean): PyFunction {
  return fn(name, (args) => {
    arity(name, args, 1, 1);
    const x = toFloatArg(args[0] as PyNumeric);
    if (!domain(x)) throw new PyExprError('ValueError', 'math domain error', -1);
    const r = f(x);
    if (!Number.isFinite(r) && Number.isFinite(x)) throw new PyExprError('OverflowError', 'math range error', -1);
    return r;
  });
}

function namespace(name: string, entries: ReadonlyArray<readonly [string, PyScopeValue]>): PyNamespace {
  return { kind: 'namespace', name, attrs: new Map(entries) };
}

/** An object with attributes, e.g. `ban` with `Time` and `Count`. */
export function pyNamespace(name: string, attrs: Readonly<Record<string, PyScopeValue>>): PyNamespace {
  return namespace(name, Object.entries(attrs));
}

/**
 * The globals a fail2ban formula sees: `math` (exp, log, sqrt, pow, floor, ceil, pi, e),
 * `random.random()` from `random` (values in [0, 1)), and the builtins min, max, abs, int, float,
 * round, pow. `extra` adds or overrides names (`ban`, `banFactor`).
 */
export function pyStandardScope(random: () => number, extra: ReadonlyArray<readonly [string, PyScopeValue]> = []): PyScope {
  const math = namespace('math', [
    ['exp', mathFn('exp', (x) => (Number.isFinite(x) ? expOf([x, 0]) : Math.exp(x)), () => true)],
    ['log', fn('log', mathLog)],
    ['sqrt', mathFn('sqrt', Math.sqrt, (x) => !(x < 0))],
    ['pow', fn('pow', mathPow)],
    ['floor', mathRound('floor')],
    ['ceil', mathRound('ceil')],
    ['pi', Math.PI],
    ['e', Math.E],
  ]);
  const rnd = namespace('random', [['random', fn('random', (args) => (arity('random', args, 0, 0), random()))]]);
  const builtins: ReadonlyArray<readonly [string, PyScopeValue]> = [
    ['math', math],
    ['random', rnd],
    ['min', minMax('min', false)],
    ['max', minMax('max', true)],
    ['abs', fn('abs', (args) => (arity('abs', args, 1, 1), ((v) => (typeof v === 'bigint' ? (v < 0n ? -v : v) : Math.abs(v)))(asInt(args[0] as PyNumeric))))],
    ['int', fn('int', (args) => (arity('int', args, 0, 1), ((v) => (typeof v === 'bigint' ? v : floatToInt(v)))(asInt(args[0] ?? 0n))))],
    ['float', fn('float', (args) => (arity('float', args, 0, 1), toFloatArg(args[0] ?? 0)))],
    ['round', fn('round', pyRoundBuiltin)],
    ['pow', fn('pow', (args) => (arity('pow', args, 2, 2), binary('**', args[0] as PyNumeric, args[1] as PyNumeric, -1)))],
  ];
  return new Map([...builtins, ...extra]);
}
