/**
 * A safe evaluator for the arithmetic Python's `eval` accepts in fail2ban time strings, with
 * Python's semantics: integers are exact (BigInt), `/` gives a float, `//` and `%` floor, `**`
 * binds tighter than unary minus. As in Python, the whole text is tokenized and parsed before
 * anything is evaluated, so a syntax error wins over a NameError or ZeroDivisionError.
 * Returns the value (int as number, float as PyFloat) or Python's error message as a string.
 */
import { PyFloat } from './pyvalue.js';

type Value = { readonly kind: 'int'; readonly v: bigint } | { readonly kind: 'float'; readonly v: number };
type Token =
  | { readonly kind: 'num'; readonly value: Value }
  | { readonly kind: 'op'; readonly op: string }
  | { readonly kind: 'name'; readonly name: string };
type Node =
  | { readonly t: 'num'; readonly value: Value }
  | { readonly t: 'name'; readonly name: string }
  | { readonly t: 'neg' | 'pos'; readonly arg: Node }
  | { readonly t: 'bin'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly t: 'call'; readonly fn: Node };

class EvalFailure extends Error {}

const SYNTAX = 'invalid syntax (<string>, line 1)';
const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER_RE = new RegExp(
  String.raw`(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?)`,
  'y',
);

function numberToken(text: string): Value {
  const clean = text.replaceAll('_', '');
  if (/^0[xob]/i.test(clean)) return { kind: 'int', v: BigInt(clean) };
  if (/[.eE]/.test(clean)) return { kind: 'float', v: Number(clean) };
  if (/^0+[1-9]/.test(clean)) {
    throw new EvalFailure('leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers (<string>, line 1)');
  }
  return { kind: 'int', v: BigInt(clean) };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const opens: number[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const num = /[\d.]/.test(c) ? NUMBER_RE.exec(src) : null;
    if (num && num[0] !== '.') {
      i += num[0].length;
      const next = src[i] ?? '';
      if (/[\p{L}\p{N}_]/u.test(next) || next.charCodeAt(0) > 127) {
        const prefix = num[0].slice(0, 2).toLowerCase();
        const kind = prefix === '0x' ? 'hexadecimal' : prefix === '0o' ? 'octal' : prefix === '0b' ? 'binary' : 'decimal';
        throw new EvalFailure(`invalid ${kind} literal (<string>, line 1)`);
      }
      tokens.push({ kind: 'num', value: numberToken(num[0]) });
      continue;
    }
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i));
    if (name) {
      tokens.push({ kind: 'name', name: name[0] });
      i += name[0].length;
      continue;
    }
    const op = /^(?:\*\*|\/\/|[-+*/%()])/.exec(src.slice(i));
    if (!op) throw new EvalFailure(c === '\u00a0' || c.trim() === '' ? `invalid non-printable character U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')} (<string>, line 1)` : SYNTAX);
    if (op[0] === '(') opens.push(i);
    if (op[0] === ')' && opens.pop() === undefined) throw new EvalFailure("unmatched ')' (<string>, line 1)");
    tokens.push({ kind: 'op', op: op[0] });
    i += op[0].length;
  }
  if (opens.length > 0) throw new EvalFailure("'(' was never closed (<string>, line 1)");
  return tokens;
}

/** Recursive-descent parser for Python's arithmetic subset; builds the tree, evaluates nothing. */
class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Node {
    if (this.tokens.length === 0) throw new EvalFailure('invalid syntax (<string>, line 0)');
    const node = this.expr();
    if (this.pos < this.tokens.length) throw new EvalFailure(this.depth > 0 ? 'invalid syntax. Perhaps you forgot a comma? (<string>, line 1)' : SYNTAX);
    return node;
  }

  private op(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    return t?.kind === 'op' && ops.includes(t.op) ? t.op : undefined;
  }

  private expr(): Node {
    let left = this.term();
    for (let op = this.op('+', '-'); op; op = this.op('+', '-')) {
      this.pos++;
      left = { t: 'bin', op, left, right: this.term() };
    }
    return left;
  }

  private term(): Node {
    let left = this.unary();
    for (let op = this.op('*', '/', '//', '%'); op; op = this.op('*', '/', '//', '%')) {
      this.pos++;
      left = { t: 'bin', op, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    const op = this.op('+', '-');
    if (!op) return this.power();
    this.pos++;
    return { t: op === '-' ? 'neg' : 'pos', arg: this.unary() };
  }

  private power(): Node {
    const base = this.postfix();
    if (!this.op('**')) return base;
    this.pos++;
    return { t: 'bin', op: '**', left: base, right: this.unary() };
  }

  private postfix(): Node {
    let node = this.atom();
    while (this.op('(')) {
      this.pos++;
      if (!this.op(')')) {
        this.depth++;
        this.expr();
        this.depth--;
        if (!this.op(')')) throw new EvalFailure(SYNTAX);
      }
      this.pos++;
      node = { t: 'call', fn: node };
    }
    return node;
  }

  private atom(): Node {
    const t = this.tokens[this.pos++];
    if (t === undefined) throw new EvalFailure(SYNTAX);
    if (t.kind === 'num') return { t: 'num', value: t.value };
    if (t.kind === 'name') return { t: 'name', name: t.name };
    if (t.op !== '(') throw new EvalFailure(SYNTAX);
    this.depth++;
    const inner = this.expr();
    if (!this.op(')')) throw new EvalFailure(this.depth > 0 && this.pos < this.tokens.length ? 'invalid syntax. Perhaps you forgot a comma? (<string>, line 1)' : SYNTAX);
    this.depth--;
    this.pos++;
    return inner;
  }
}

const toFloat = (x: Value): number => (x.kind === 'float' ? x.v : Number(x.v));
const float = (v: number): Value => ({ kind: 'float', v });
const int = (v: bigint): Value => ({ kind: 'int', v });

/** Python's float `%` (result has the divisor's sign; zero keeps the divisor's sign). */
function floatMod(a: number, b: number): number {
  let mod = a % b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) mod += b;
  } else mod = b < 0 ? -0 : 0;
  return mod;
}

/** Python's float `//`, computed from fmod as CPython does (1 // 0.1 is 9.0). */
function floatFloorDiv(a: number, b: number): number {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) {
    mod += b;
    div -= 1;
  }
  if (div === 0) return a / b < 0 ? -0 : 0;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

function intOp(op: string, a: bigint, b: bigint): Value {
  switch (op) {
    case '+': return int(a + b);
    case '-': return int(a - b);
    case '*': return int(a * b);
    case '/':
      if (b === 0n) throw new EvalFailure('division by zero');
      return float(Number(a) / Number(b));
    case '//': {
      if (b === 0n) throw new EvalFailure('integer division or modulo by zero');
      const q = a / b;
      return int(a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q);
    }
    case '%': {
      if (b === 0n) throw new EvalFailure('integer modulo by zero');
      const r = a % b;
      return int(r !== 0n && r < 0n !== b < 0n ? r + b : r);
    }
    default:
      if (b < 0n) {
        if (a === 0n) throw new EvalFailure('0.0 cannot be raised to a negative power');
        return float(Number(a) ** Number(b));
      }
      return int(a ** b);
  }
}

function floatOp(op: string, a: number, b: number): Value {
  switch (op) {
    case '+': return float(a + b);
    case '-': return float(a - b);
    case '*': return float(a * b);
    case '/':
      if (b === 0) throw new EvalFailure('float division by zero');
      return float(a / b);
    case '//':
      if (b === 0) throw new EvalFailure('float floor division by zero');
      return float(floatFloorDiv(a, b));
    case '%':
      if (b === 0) throw new EvalFailure('float modulo');
      return float(floatMod(a, b));
    default:
      if (a === 0 && b < 0) throw new EvalFailure('0.0 cannot be raised to a negative power');
      return float(a ** b);
  }
}

function evaluate(node: Node): Value {
  switch (node.t) {
    case 'num': return node.value;
    case 'name': throw new EvalFailure(`name '${node.name}' is not defined`);
    case 'call': {
      const fn = evaluate(node.fn);
      throw new EvalFailure(`'${fn.kind}' object is not callable`);
    }
    case 'pos': return evaluate(node.arg);
    case 'neg': {
      const v = evaluate(node.arg);
      return v.kind === 'int' ? int(-v.v) : float(-v.v);
    }
    case 'bin': {
      const a = evaluate(node.left);
      const b = evaluate(node.right);
      return a.kind === 'int' && b.kind === 'int' ? intOp(node.op, a.v, b.v) : floatOp(node.op, toFloat(a), toFloat(b));
    }
  }
}

/** Evaluates `src`; an int (a number, or a bigint past 2**53), a PyFloat, or an error message string. */
export function evaluateArithmetic(src: string): number | bigint | PyFloat | string {
  try {
    const v = evaluate(new Parser(tokenize(src)).parse());
    if (v.kind === 'float') return new PyFloat(v.v);
    return v.v >= BigInt(Number.MIN_SAFE_INTEGER) && v.v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.v) : v.v;
  } catch (e) {
    if (e instanceof EvalFailure) return e.message;
    throw e;
  }
}
