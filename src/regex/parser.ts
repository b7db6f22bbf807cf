/** Parses a Python 3.11 `re` str pattern into the tree of ast.ts, with Python's syntax errors. */
import { EMPTY, INF, alt, seq, type Node } from './ast.js';
import { Cursor, isDigit } from './cursor.js';
import { parseClass, parseEscape } from './escapes.js';

/** Flags in force at a point of the pattern. */
export interface Flags {
  readonly ic: boolean;
  readonly ml: boolean;
  readonly dotAll: boolean;
}

/** The parsed pattern: its tree, the number of groups and the named groups. */
export interface Parsed {
  readonly root: Node;
  readonly groupCount: number;
  readonly names: ReadonlyMap<string, number>;
}

const MAXREPEAT = 4294967295;

class Parser {
  readonly cur: Cursor;
  groupCount = 0;
  readonly names = new Map<string, number>();
  private readonly open = new Set<number>();
  private readonly condRefs: Array<{ index: number; pos: number }> = [];

  constructor(src: string) {
    this.cur = new Cursor(src);
  }

  parse(flags: Flags): Parsed {
    const f = this.globalFlags(flags);
    const root = this.alternation(f, true);
    if (this.cur.peek() === ')') this.cur.fail('E_REGEX_SYNTAX', 'unbalanced parenthesis');
    for (const r of this.condRefs) {
      if (r.index > this.groupCount) this.cur.fail('E_REGEX_SYNTAX', 'invalid group reference ' + r.index, r.pos);
    }
    return { root, groupCount: this.groupCount, names: this.names };
  }

  /** Leading `(?aiLmsux)` groups (Python ≥3.11 accepts global flags only at the start). */
  private globalFlags(flags: Flags): Flags {
    let f = flags;
    while (/^\(\?[a-zA-Z]+\)/.test(this.cur.src.slice(this.cur.pos))) {
      const at = this.cur.pos;
      this.cur.pos += 2;
      const letters = this.cur.take((c) => /[a-zA-Z]/.test(c));
      this.cur.next();
      f = applyFlags(this.cur, f, letters, true, at);
    }
    return f;
  }

  private alternation(f: Flags, top: boolean): Node {
    const alts: Node[] = [this.sequence(f, top)];
    while (this.cur.eat('|')) alts.push(this.sequence(f, false));
    return alt(alts);
  }

  private sequence(f: Flags, first: boolean): Node {
    const items: Node[] = [];
    for (let c = this.cur.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.cur.peek()) {
      const at = this.cur.pos;
      if (first && items.length === 0 && this.cur.src.startsWith('(?', at) && /^\(\?[a-zA-Z]+\)/.test(this.cur.src.slice(at))) {
        this.cur.fail('E_REGEX_SYNTAX', 'global flags not at the start of the expression');
      }
      const atom = this.atom(f);
      if (atom === undefined) continue;
      items.push(this.quantified(atom, at));
    }
    return seq(items);
  }

  /** Applies a following quantifier, if any, to `atom`. */
  private quantified(atom: Node, at: number): Node {
    const q = this.quantifier();
    if (q === undefined) return atom;
    if (atom.t === 'anchor' || (atom.t === 'seq' && atom.items.length === 0)) this.cur.fail('E_REGEX_SYNTAX', 'nothing to repeat', at);
    if (atom.t === 'group' && atom.kind !== 'nc') this.cur.fail('E_REGEX_UNSUPPORTED', 'quantified lookaround', at);
    let lazy = false;
    if (this.cur.eat('?')) lazy = true;
    else if (this.cur.peek() === '+') this.cur.fail('E_REGEX_UNSUPPORTED', 'possessive quantifier');
    const next = this.cur.peek();
    if (next === '*' || next === '+' || next === '?' || (next === '{' && this.isRepeatBrace())) {
      this.cur.fail('E_REGEX_SYNTAX', 'multiple repeat');
    }
    return { t: 'repeat', min: q.min, max: q.max, lazy, body: atom, pos: at };
  }

  private isRepeatBrace(): boolean {
    return /^\{\d*(,\d*)?\}/.test(this.cur.src.slice(this.cur.pos)) && !this.cur.src.startsWith('{}', this.cur.pos);
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.cur.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.cur.next();
      return { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : INF };
    }
    if (c !== '{' || !this.isRepeatBrace()) return undefined;
    const at = this.cur.pos;
    this.cur.next();
    const lo = this.cur.take(isDigit);
    const hi = this.cur.eat(',') ? this.cur.take(isDigit) : lo;
    this.cur.next();
    const min = lo === '' ? 0 : Number(lo);
    const max = hi === '' ? INF : Number(hi);
    if (min >= MAXREPEAT || (max !== INF && max >= MAXREPEAT)) this.cur.fail('E_REGEX_SYNTAX', 'the repetition number is too large', at);
    if (max < min) this.cur.fail('E_REGEX_SYNTAX', 'min repeat greater than max repeat', at);
    return { min, max };
  }

  /** One atom, or undefined for a comment group. */
  private atom(f: Flags): Node | undefined {
    const at = this.cur.pos;
    const c = this.cur.next() ?? '';
    switch (c) {
      case '.':
        return { t: 'any', dotAll: f.dotAll };
      case '^':
        return { t: 'anchor', kind: 'bol', multiline: f.ml };
      case '$':
        return { t: 'anchor', kind: 'eol', multiline: f.ml };
      case '[':
        return parseClass(this.cur, f.ic);
      case '(':
        return this.group(f, at);
      case '\\':
        return this.escape(f, at);
      case '*':
      case '+':
      case '?':
        return this.cur.fail('E_REGEX_SYNTAX', 'nothing to repeat', at);
      default:
        return { t: 'char', cp: c.codePointAt(0) ?? 0, ic: f.ic };
    }
  }

  private escape(f: Flags, at: number): Node {
    const e = parseEscape(this.cur);
    switch (e.k) {
      case 'lit':
        return { t: 'char', cp: e.cp, ic: f.ic };
      case 'cat':
        return { t: 'cat', cat: e.cat };
      case 'anchor':
        return { t: 'anchor', kind: e.kind, multiline: f.ml };
      case 'ref':
        return this.backref(e.index, f, at);
    }
  }

  private backref(index: number, f: Flags, at: number): Node {
    if (index === 0 || index > this.groupCount) this.cur.fail('E_REGEX_SYNTAX', 'invalid group reference ' + index, at);
    if (this.open.has(index)) this.cur.fail('E_REGEX_SYNTAX', 'cannot refer to an open group', at);
    return { t: 'backref', index, uid: undefined, ic: f.ic, pos: at };
  }

  private close(at: number): void {
    if (!this.cur.eat(')')) this.cur.fail('E_REGEX_SYNTAX', 'missing ), unterminated subpattern', at);
  }

  private capture(f: Flags, at: number, name: string | undefined): Node {
    const index = ++this.groupCount;
    if (name !== undefined) this.names.set(name, index);
    this.open.add(index);
    const body = this.alternation(f, false);
    this.close(at);
    this.open.delete(index);
    return { t: 'cap', index, name, uid: index, body, pos: at };
  }

  private group(f: Flags, at: number): Node | undefined {
    if (!this.cur.eat('?')) return this.capture(f, at, undefined);
    const kinds: Array<[string, 'nc' | 'la' | 'nla' | 'lb' | 'nlb']> = [[':', 'nc'], ['=', 'la'], ['!', 'nla'], ['<=', 'lb'], ['<!', 'nlb']];
    for (const [tok, kind] of kinds) {
      if (this.cur.eat(tok)) {
        const body = this.alternation(f, false);
        this.close(at);
        return { t: 'group', kind, body, pos: at };
      }
    }
    if (this.cur.eat('P<')) return this.capture(f, at, this.groupName('>', at));
    if (this.cur.eat('P=')) return this.namedRef(f, at);
    if (this.cur.eat('#')) return this.comment(at);
    if (this.cur.eat('(')) return this.conditional(f, at);
    if (this.cur.eat('>')) return this.cur.fail('E_REGEX_UNSUPPORTED', 'atomic group (?>...)', at);
    return this.scopedFlags(f, at);
  }

  private groupName(end: string, at: number): string {
    const name = this.cur.take((c) => c !== end && c !== ')');
    if (!this.cur.eat(end)) this.cur.fail('E_REGEX_SYNTAX', 'missing ' + end + ', unterminated name', at);
    if (!/^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u.test(name)) this.cur.fail('E_REGEX_SYNTAX', `bad character in group name ${JSON.stringify(name)}`, at);
    if (end === '>' && this.names.has(name)) this.cur.fail('E_REGEX_SYNTAX', `redefinition of group name ${JSON.stringify(name)}`, at);
    return name;
  }

  private namedRef(f: Flags, at: number): Node {
    const name = this.groupName(')', at);
    const index = this.names.get(name);
    if (index === undefined) return this.cur.fail('E_REGEX_SYNTAX', `unknown group name ${JSON.stringify(name)}`, at);
    return this.backref(index, f, at);
  }

  private comment(at: number): undefined {
    this.cur.take((c) => c !== ')');
    this.close(at);
    return undefined;
  }

  private conditional(f: Flags, at: number): Node {
    const ref = this.cur.take((c) => c !== ')');
    this.cur.eat(')');
    let index: number | undefined;
    if (/^\d+$/.test(ref)) {
      index = Number(ref);
      if (index === 0) this.cur.fail('E_REGEX_SYNTAX', 'bad group number', at);
      this.condRefs.push({ index, pos: at });
    } else {
      index = this.names.get(ref);
      if (index === undefined) this.cur.fail('E_REGEX_SYNTAX', `unknown group name ${JSON.stringify(ref)}`, at);
    }
    const yes = this.sequence(f, false);
    const no = this.cur.eat('|') ? this.sequence(f, false) : EMPTY;
    if (this.cur.peek() === '|') this.cur.fail('E_REGEX_SYNTAX', 'conditional backref with more than two branches', at);
    this.close(at);
    return { t: 'cond', index, yes, no, pos: at };
  }

  /** `(?flags-flags:...)`; a bare `(?flags)` here is not at the start. */
  private scopedFlags(f: Flags, at: number): Node {
    const add = this.cur.take((c) => /[a-zA-Z]/.test(c));
    const del = this.cur.eat('-') ? this.cur.take((c) => /[a-zA-Z]/.test(c)) : undefined;
    if (this.cur.peek() === ')' && del === undefined) this.cur.fail('E_REGEX_SYNTAX', 'global flags not at the start of the expression', at);
    if (!this.cur.eat(':')) this.cur.fail('E_REGEX_SYNTAX', 'unknown extension ?' + (this.cur.peek() ?? ''), at);
    if (del === '') this.cur.fail('E_REGEX_SYNTAX', 'missing flag', at);
    let inner = applyFlags(this.cur, f, add, true, at);
    if (del !== undefined) inner = applyFlags(this.cur, inner, del, false, at);
    const body = this.alternation(inner, false);
    this.close(at);
    return { t: 'group', kind: 'nc', body, pos: at };
  }
}

/** Sets (`on`) or clears the flags named by `letters`; rejects what Python rejects or we do not translate. */
function applyFlags(cur: Cursor, f: Flags, letters: string, on: boolean, at: number): Flags {
  let { ic, ml, dotAll } = f;
  for (const l of letters) {
    if (l === 'i') ic = on;
    else if (l === 'm') ml = on;
    else if (l === 's') dotAll = on;
    else if (l === 'u' && on) continue;
    else if (l === 'L') cur.fail('E_REGEX_SYNTAX', 'bad inline flags: cannot use \'L\' flag with a str pattern', at);
    else if ((l === 'x' || l === 'a') && (on || l === 'x')) cur.fail('E_REGEX_UNSUPPORTED', `inline flag (?${l})`, at);
    else cur.fail('E_REGEX_SYNTAX', 'unknown flag', at);
  }
  return { ic, ml, dotAll };
}

/** Parses `src` with the initial flags (those given to re.compile). */
export function parsePython(src: string, flags: Flags): Parsed {
  return new Parser(src).parse(flags);
}
