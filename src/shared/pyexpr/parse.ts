/**
 * The syntax tree and the recursive-descent parser over Python's expression grammar (the
 * subset the evaluator accepts); refuses lambdas, tuples, `in`/`is`, starred arguments, dunder
 * names, and nesting deeper than MAX_DEPTH.
 */
import { KEYWORDS, syntax, type Token } from './tokenize.js';
import { PyExprError, type PyNumeric } from './types.js';

const MAX_DEPTH = 100;

export type Node =
  | { readonly t: 'const'; readonly v: PyNumeric; readonly pos: number }
  | { readonly t: 'name'; readonly name: string; readonly pos: number }
  | { readonly t: 'attr'; readonly obj: Node; readonly name: string; readonly pos: number }
  | { readonly t: 'call'; readonly fn: Node; readonly args: readonly Node[]; readonly pos: number }
  | { readonly t: 'unary'; readonly op: string; readonly arg: Node; readonly pos: number }
  | { readonly t: 'bin'; readonly op: string; readonly l: Node; readonly r: Node; readonly pos: number }
  | { readonly t: 'bool'; readonly op: 'and' | 'or'; readonly items: readonly Node[]; readonly pos: number }
  | { readonly t: 'cmp'; readonly first: Node; readonly ops: readonly string[]; readonly rest: readonly Node[]; readonly pos: number }
  | { readonly t: 'if'; readonly cond: Node; readonly then: Node; readonly other: Node; readonly pos: number };

/** Recursive descent over Python's expression grammar (the subset above); builds the tree, evaluates nothing. */
export class Parser {
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
