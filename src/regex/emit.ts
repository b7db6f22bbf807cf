/**
 * Writes the expanded tree as JavaScript source for the `u` flag. Each copy of a Python group gets
 * its own JS name (the Python name for the first, `name__2`… for later copies); a backreference
 * names the copy in scope on its path.
 */
import { some, type Node } from './ast.js';
import { categoryText, classText, literalText, WORD } from './charset.js';
import { needsRecovery, width } from './checks.js';

const W = `[${WORD}]`;
const ANY = '[\\s\\S]';
// Without JS's `m` flag (never used), `^` and `$` are exactly start and end of input, and V8 only
// tries position 0 for a regex that begins with `^`, instead of every position of the line.
const ANCHORS = {
  bol: ['^', '(?<![^\\n])'],
  eol: ['(?=\\n?$)', '(?=\\n|$)'],
  bos: ['^', '^'],
  eos: ['$', '$'],
  wb: [`(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`, ''],
  nwb: [`(?!(?<!${ANY})(?!${ANY}))(?:(?<=${W})(?=${W})|(?<!${W})(?!${W}))`, ''],
} as const;

function validName(name: string): boolean {
  try {
    new RegExp(`(?<${name}>)`, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * A loop whose named captures are recovered after the match (see recover.ts): in the main regex
 * the loop has no captures and is wrapped in the JS group `group`; `first` is the body with its
 * captures (JS names → Python names in `jsToPython`), `rest` the body without captures.
 */
export interface LoopRecovery {
  readonly group: string;
  readonly first: string;
  readonly rest: string;
  readonly min: number;
  readonly max: number;
  readonly lazy: boolean;
  readonly jsToPython: ReadonlyMap<string, string>;
}

/** The JS source and, for each JS group name, the Python group name it stands for. */
export interface Emitted {
  readonly source: string;
  readonly jsToPython: ReadonlyMap<string, string>;
  readonly loops: readonly LoopRecovery[];
}

class Emitter {
  readonly jsToPython = new Map<string, string>();
  readonly loops: LoopRecovery[] = [];
  private readonly used: Set<string>;
  private scope = new Map<number, string>();

  constructor(
    private readonly referenced: ReadonlySet<number>,
    reserved: Iterable<string>,
    private readonly strip = false,
  ) {
    this.used = new Set(reserved);
  }

  private nameFor(n: Node & { t: 'cap' }): string | undefined {
    if (this.strip || (n.name === undefined && !this.referenced.has(n.index))) return undefined;
    const first = n.name !== undefined && !this.jsToPython.has(n.name) && validName(n.name);
    let js = first && n.name !== undefined ? n.name : undefined;
    const base = n.name !== undefined && validName(n.name) ? n.name : `__g${n.index}`;
    for (let k = 2; js === undefined || (js !== n.name && this.used.has(js)); k++) js = `${base}__${k}`;
    this.used.add(js);
    this.jsToPython.set(js, n.name ?? `${n.index}`);
    return js;
  }

  node(n: Node): string {
    switch (n.t) {
      case 'seq':
        return n.items.map((i) => (i.t === 'alt' ? `(?:${this.node(i)})` : this.node(i))).join('');
      case 'alt':
        return this.alternation(n.alts);
      case 'char':
        return literalText(n.cp, n.ic);
      case 'class':
        return classText(n.neg, n.items, n.ic);
      case 'any':
        return n.dotAll ? ANY : '[^\\n]';
      case 'cat':
        return categoryText(n.cat);
      case 'anchor':
        return ANCHORS[n.kind][n.multiline ? 1 : 0] || ANCHORS[n.kind][0];
      case 'cap': {
        const js = this.nameFor(n);
        const body = this.node(n.body);
        if (js !== undefined) this.scope.set(n.index, js);
        return js === undefined ? `(?:${body})` : `(?<${js}>${body})`;
      }
      case 'group':
        return `(${{ nc: '?:', la: '?=', nla: '?!', lb: '?<=', nlb: '?<!' }[n.kind]}${this.node(n.body)})`;
      case 'repeat':
        return this.repeat(n);
      case 'backref':
        return `(?:\\k<${this.scope.get(n.index) ?? ''}>)`;
      case 'fail':
        return '(?!)';
      case 'cond':
        throw new Error('internal: conditional left after expansion');
    }
  }

  private alternation(alts: readonly Node[]): string {
    const start = this.scope;
    const out = alts.map((a) => {
      this.scope = new Map(start);
      return this.node(a);
    });
    return out.join('|');
  }

  /** A loop with captures set in some iterations only: captures stripped, span kept for recover.ts. */
  private recovered(n: Node & { t: 'repeat' }): string {
    let group = `__r${this.loops.length + 1}`;
    while (this.used.has(group)) group = `_${group}`;
    this.used.add(group);
    const sub = new Emitter(new Set(), []);
    const first = sub.node(n.body);
    const rest = new Emitter(new Set(), [], true).node(n.body);
    const loop = new Emitter(new Set(), [], true).node(n);
    this.loops.push({ group, first, rest, min: n.min, max: n.max, lazy: n.lazy, jsToPython: sub.jsToPython });
    return `(?<${group}>${loop})`;
  }

  private repeat(n: Node & { t: 'repeat' }): string {
    if (n.max === 0) return '(?:)';
    if (!this.strip && needsRecovery(n)) return this.recovered(n);
    if (n.min === 1 && n.max === 1) return this.node(n.body);
    const body = this.node(n.body);
    if (n.max === 1 && width(n.body)[0] === 0) return n.lazy ? `(?:|${body})` : `(?:${body}|)`;
    const atom = /^(?:\\p\{\w+\}|\\P\{\w+\}|\[[^\]]*\]|\\u\{[0-9a-f]+\}|[^\\[(){}|])$/.test(body) ? body : `(?:${body})`;
    const q = n.min === 0 && n.max === 1 ? '?' : n.min === 0 && n.max === Infinity ? '*' : n.min === 1 && n.max === Infinity ? '+' : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
    return atom + q + (n.lazy ? '?' : '');
  }
}

/** Emits `root`; `names` are the Python group names (kept for the first copy of each group). */
export function emit(root: Node, names: Iterable<string>): Emitted {
  const referenced = new Set<number>();
  some(root, (x) => x.t === 'backref' && referenced.add(x.index) === undefined);
  const e = new Emitter(referenced, names);
  const source = e.node(root);
  return { source, jsToPython: e.jsToPython, loops: e.loops };
}
