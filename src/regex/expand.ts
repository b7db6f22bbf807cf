/**
 * Removes conditionals `(?(g)yes|no)` and makes backreferences to a group that did not participate
 * fail, as in Python (JS would match the empty string). For each referenced group g, the pattern is
 * rewritten so that every point where g's participation is decided becomes an alternation whose
 * branches are followed by their own copy of the rest of the pattern, resolved for "g set (this
 * copy)" or "g unset". The identities used keep Python's backtracking priority:
 *   (A|B)R = AR|BR,  X?R = XR|R,  X??R = R|XR,  X{0,n}R = X{1,n}R|R (X not nullable),
 *   (?<h>A|B)R = (?<h>A)R|(?<h>B)R  and P(A|B) = PA|PB only when P has a single path.
 * Copies of capturing groups keep their index; emit.ts gives each copy its own JS name and binds a
 * backreference to the copy in scope (the nearest preceding one on the same path).
 */
import { EMPTY, alt, seq, some, type Node } from './ast.js';
import { deterministic } from './checks.js';
import { RegexError } from './errors.js';

/** `undefined`: g did not participate; a number (g itself): it did. */
type Status = number | undefined;
type Path = readonly [Node, Status];

class Expander {
  constructor(
    private readonly g: number,
    private readonly pattern: string,
  ) {}

  hasDef(n: Node): boolean {
    return some(n, (x) => x.t === 'cap' && x.index === this.g);
  }

  /** A copy of `n` with references to g resolved for `st`. */
  subst(n: Node, st: Status): Node {
    const r = (x: Node): Node => this.subst(x, st);
    switch (n.t) {
      case 'seq':
        return { ...n, items: n.items.map(r) };
      case 'alt':
        return { ...n, alts: n.alts.map(r) };
      case 'cap':
      case 'group':
      case 'repeat':
        return { ...n, body: r(n.body) };
      case 'cond':
        return n.index === this.g ? r(st === undefined ? n.no : n.yes) : { ...n, yes: r(n.yes), no: r(n.no) };
      case 'backref':
        if (n.index !== this.g) return n;
        return st === undefined ? { t: 'fail' } : { ...n, uid: st };
      case 'anchor':
      case 'any':
      case 'cat':
      case 'char':
      case 'class':
      case 'fail':
        return n;
    }
  }

  /** The node for `items` (a sequence followed by nothing more) entered with status `st`. */
  expand(items: readonly Node[], st: Status): Node {
    const out: Node[] = [];
    for (let j = 0; j < items.length; j++) {
      const x = items[j] as Node;
      if (!this.hasDef(x)) {
        out.push(this.subst(x, st));
        continue;
      }
      out.push(this.split(x, items.slice(j + 1), st));
      break;
    }
    return seq(out);
  }

  /** `x · rest` where x contains g's definition. */
  private split(x: Node, rest: readonly Node[], st: Status): Node {
    switch (x.t) {
      case 'alt':
        return alt(x.alts.map((a) => this.expand([a, ...rest], st)));
      case 'seq':
        return this.expand([...x.items, ...rest], st);
      case 'group':
        if (x.kind === 'nc') return this.expand([x.body, ...rest], st);
        return this.joinPaths(this.closed(x, st), rest);
      case 'cap':
        return this.joinPaths(this.closed(x, st), rest);
      case 'repeat':
        return this.splitRepeat(x, rest, st);
      case 'anchor':
      case 'any':
      case 'cat':
      case 'char':
      case 'class':
      case 'fail':
      case 'backref':
      case 'cond':
        return this.unsupported(x);
    }
  }

  private splitRepeat(x: Node & { t: 'repeat' }, rest: readonly Node[], st: Status): Node {
    if (x.max === 0) return this.expand(rest, st);
    if (x.min >= 1) return this.joinPaths(this.closed(x, st), rest);
    const once = x.max === 1 ? this.expand([x.body, ...rest], st) : this.joinPaths(this.closed({ ...x, min: 1 }, st), rest);
    const skip = this.expand(rest, st);
    return alt(x.lazy ? [skip, once] : [once, skip]);
  }

  /** Alternatives `v_k · rest(s_k)`, merging neighbours with the same status. */
  private joinPaths(paths: readonly Path[], rest: readonly Node[]): Node {
    return alt(runs(paths).map(([v, s]) => seq([v, this.expand(rest, s)])));
  }

  /** Paths through `n` whose ordered alternation equals `n`, each with g's status after it. */
  closed(n: Node, st: Status): Path[] {
    if (!this.hasDef(n)) return [[this.subst(n, st), st]];
    switch (n.t) {
      case 'alt':
        return n.alts.flatMap((a) => this.closed(a, st));
      case 'seq':
        return this.closedSeq(n.items, st);
      case 'cap':
        return this.closedCap(n, st);
      case 'group': {
        const inner = this.closed(n.body, st);
        const keep = n.kind === 'nc' || n.kind === 'la' || n.kind === 'lb';
        return inner.map(([v, s]): Path => [{ ...n, body: v }, keep ? s : st]);
      }
      case 'repeat':
        return this.closedRepeat(n, st);
      case 'anchor':
      case 'any':
      case 'cat':
      case 'char':
      case 'class':
      case 'fail':
      case 'backref':
      case 'cond':
        return this.unsupported(n);
    }
  }

  private closedCap(n: Node & { t: 'cap' }, st: Status): Path[] {
    if (n.index === this.g) return [[{ ...n, body: this.subst(n.body, st) }, this.g]];
    return this.closed(n.body, st).map(([v, s]): Path => [{ ...n, body: v }, s]);
  }

  private closedSeq(items: readonly Node[], st: Status): Path[] {
    const j = items.findIndex((x) => this.hasDef(x));
    const prefix = items.slice(0, j);
    const merged = runs(this.closed(items[j] as Node, st));
    if (merged.length > 1 && !prefix.every(deterministic)) return this.unsupported(items[j] as Node);
    const rest = items.slice(j + 1);
    return merged.map(([v, s]): Path => [seq([...prefix.map((p) => this.subst(p, st)), v, ...rest.map((r) => this.subst(r, s))]), s]);
  }

  private closedRepeat(n: Node & { t: 'repeat' }, st: Status): Path[] {
    if (n.max === 0) return [[EMPTY, st]];
    if (n.max === 1) {
      const once = this.closed(n.body, st);
      if (n.min === 1) return once;
      return n.lazy ? [[EMPTY, st], ...once] : [...once, [EMPTY, st]];
    }
    const loop: Path = [{ ...n, min: Math.max(n.min, 1), body: this.subst(n.body, st) }, this.g];
    if (n.min >= 1) return [loop];
    return n.lazy ? [[EMPTY, st], loop] : [loop, [EMPTY, st]];
  }

  private unsupported(n: Node): never {
    const pos = 'pos' in n ? n.pos : 0;
    throw new RegexError('E_REGEX_UNSUPPORTED', `conditional or group reference whose group ${this.g} is decided inside this construct`, this.pattern, pos);
  }
}

/** Neighbouring paths with the same status merged into one alternation. */
function runs(paths: readonly Path[]): Path[] {
  const out: Array<[Node[], Status]> = [];
  for (const [v, s] of paths) {
    const last = out[out.length - 1];
    if (last && last[1] === s) last[0].push(v);
    else out.push([[v], s]);
  }
  return out.map(([vs, s]): Path => [alt(vs), s]);
}

/** The indexes of groups referenced by a conditional or a backreference, ascending. */
function referenced(root: Node): number[] {
  const set = new Set<number>();
  some(root, (x) => (x.t === 'cond' || x.t === 'backref') && set.add(x.index) === undefined);
  return [...set].sort((a, b) => a - b);
}

/** Returns an equivalent tree without conditionals, every backreference bound to one group copy or `fail`. */
export function expandReferences(root: Node, pattern: string): Node {
  let tree = root;
  for (const g of referenced(root)) tree = new Expander(g, pattern).expand([tree], undefined);
  if (some(tree, (x) => x.t === 'cond')) throw new RegexError('E_REGEX_UNSUPPORTED', 'nested conditional', pattern, 0);
  return tree;
}
