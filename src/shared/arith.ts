/**
 * A safe evaluator for the arithmetic Python's `eval` would accept in fail2ban time strings.
 * Returns the value (int as number, float as PyFloat) or Python's error message as a string.
 */
import { PyFloat } from './pyvalue.js';

type Num = { readonly v: number; readonly float: boolean };
type Token =
  | { readonly kind: 'num'; readonly num: Num }
  | { readonly kind: 'op'; readonly op: string }
  | { readonly kind: 'name'; readonly name: string };

class EvalFailure extends Error {}

const SYNTAX = 'invalid syntax (<string>, line 1)';

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d[\d_]*(?:\.\d*)?|\.\d+)([A-Za-z_]\w*)?|(\*\*|\/\/|[-+*/%()])|([A-Za-z_]\w*)|(\S))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < src.length && (m = re.exec(src)) !== null) {
    const [, num, suffix, op, name, other] = m;
    if (num !== undefined) {
      if (suffix !== undefined) throw new EvalFailure('invalid decimal literal (<string>, line 1)');
      const isFloat = num.includes('.');
      tokens.push({ kind: 'num', num: { v: Number(num.replaceAll('_', '')), float: isFloat } });
    } else if (op !== undefined) tokens.push({ kind: 'op', op });
    else if (name !== undefined) tokens.push({ kind: 'name', name });
    else if (other !== undefined) throw new EvalFailure(SYNTAX);
  }
  return tokens;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Num {
    if (this.tokens.length === 0) throw new EvalFailure('invalid syntax (<string>, line 0)');
    const v = this.expr();
    const rest = this.tokens[this.pos];
    if (rest !== undefined) {
      if (rest.kind === 'op' && rest.op === ')') throw new EvalFailure("unmatched ')' (<string>, line 1)");
      throw new EvalFailure(SYNTAX);
    }
    return v;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    return t?.kind === 'op' && ops.includes(t.op) ? t.op : undefined;
  }

  private expr(): Num {
    let left = this.term();
    for (let op = this.peekOp('+', '-'); op; op = this.peekOp('+', '-')) {
      this.pos++;
      left = binary(op, left, this.term());
    }
    return left;
  }

  private term(): Num {
    let left = this.unary();
    for (let op = this.peekOp('*', '/', '//', '%'); op; op = this.peekOp('*', '/', '//', '%')) {
      this.pos++;
      left = binary(op, left, this.unary());
    }
    return left;
  }

  private unary(): Num {
    const op = this.peekOp('+', '-');
    if (op) {
      this.pos++;
      const v = this.unary();
      return op === '-' ? { v: -v.v, float: v.float } : v;
    }
    return this.power();
  }

  private power(): Num {
    const base = this.atom();
    if (this.peekOp('**')) {
      this.pos++;
      return binary('**', base, this.unary());
    }
    return base;
  }

  private atom(): Num {
    const t = this.tokens[this.pos++];
    if (t === undefined) {
      if (this.depth > 0) throw new EvalFailure("'(' was never closed (<string>, line 1)");
      throw new EvalFailure(SYNTAX);
    }
    if (t.kind === 'num') return t.num;
    if (t.kind === 'name') throw new EvalFailure(`name '${t.name}' is not defined`);
    if (t.op !== '(') throw new EvalFailure(t.op === ')' ? "unmatched ')' (<string>, line 1)" : SYNTAX);
    this.depth++;
    const v = this.expr();
    if (!this.peekOp(')')) {
      throw new EvalFailure(this.pos >= this.tokens.length ? "'(' was never closed (<string>, line 1)" : SYNTAX);
    }
    this.pos++;
    this.depth--;
    return v;
  }
}

function binary(op: string, a: Num, b: Num): Num {
  const float = a.float || b.float;
  switch (op) {
    case '+': return { v: a.v + b.v, float };
    case '-': return { v: a.v - b.v, float };
    case '*': return { v: a.v * b.v, float };
    case '/':
      if (b.v === 0) throw new EvalFailure('division by zero');
      return { v: a.v / b.v, float: true };
    case '//':
      if (b.v === 0) throw new EvalFailure(float ? 'float floor division by zero' : 'integer division or modulo by zero');
      return { v: Math.floor(a.v / b.v), float };
    case '%': {
      if (b.v === 0) throw new EvalFailure(float ? 'float modulo' : 'integer division or modulo by zero');
      const r = a.v % b.v;
      return { v: r !== 0 && (r < 0) !== (b.v < 0) ? r + b.v : r, float };
    }
    default: {
      const v = a.v ** b.v;
      return { v, float: float || b.v < 0 };
    }
  }
}

/** Evaluates `src`; a number (int), a PyFloat, or an error message string. */
export function evaluateArithmetic(src: string): number | PyFloat | string {
  try {
    const n = new Parser(tokenize(src)).parse();
    return n.float ? new PyFloat(n.v) : n.v;
  } catch (e) {
    if (e instanceof EvalFailure) return e.message;
    throw e;
  }
}
