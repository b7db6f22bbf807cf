/**
 * Static checks on the parsed tree: Python's fixed-width look-behind rule, and the constructs whose
 * JavaScript behaviour differs from Python's in ways the translation cannot repair (rejected).
 */
import { INF, children, some, type Node } from './ast.js';
import { RegexError } from './errors.js';
import { caseClass, hasCased } from './casefold.js';
import { END, after, disjoint, first, firstSeq, nullable, union, type First } from './firsts.js';

/** Python's width range of a node (`[min, max]`, max may be INF). */
export function width(n: Node): [number, number] {
  switch (n.t) {
    case 'char':
    case 'class':
    case 'any':
    case 'cat':
      return [1, 1];
    case 'seq':
      return n.items.map(width).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
    case 'alt': {
      const ws = n.alts.map(width);
      return [Math.min(...ws.map((w) => w[0])), Math.max(...ws.map((w) => w[1]))];
    }
    case 'cap':
      return width(n.body);
    case 'group':
      return n.kind === 'nc' ? width(n.body) : [0, 0];
    case 'repeat': {
      const [a, b] = width(n.body);
      return [a * n.min, n.max === 0 || b === 0 ? 0 : b * n.max];
    }
    case 'cond': {
      const [a, b] = width(n.yes);
      const [c, d] = width(n.no);
      return [Math.min(a, c), Math.max(b, d)];
    }
    case 'backref':
      return [0, INF];
    case 'anchor':
    case 'fail':
      return [0, 0];
  }
}

/** Capturing groups that participate on every path through `n`. */
function mandatoryCaps(n: Node, out: Set<number>): void {
  if (n.t === 'cap') out.add(n.index);
  if (n.t === 'seq') n.items.forEach((i) => mandatoryCaps(i, out));
  else if (n.t === 'alt' && n.alts.length === 1 && n.alts[0]) mandatoryCaps(n.alts[0], out);
  else if (n.t === 'cap' || (n.t === 'group' && (n.kind === 'nc' || n.kind === 'la' || n.kind === 'lb')) || (n.t === 'repeat' && n.min >= 1)) {
    mandatoryCaps(n.body, out);
  }
}

const capsIn = (n: Node): number[] => (n.t === 'cap' ? [n.index] : []).concat(...children(n).map(capsIn));
const refsIn = (n: Node): Array<{ index: number; pos: number }> =>
  (n.t === 'backref' || n.t === 'cond' ? [{ index: n.index, pos: n.pos }] : []).concat(...children(n).map(refsIn));

/**
 * A repeat with more than one iteration: JS resets captures at each iteration and stops empty
 * iterations differently. Captures that are visible (named, or referenced) must be set on every
 * iteration; unnamed unreferenced groups are emitted as non-capturing and do not matter. A body
 * that can match the empty string is accepted with a fixed count, lazily, or greedily when the
 * first-character analysis of firsts.ts proves the tail is tried at the same point (and then only
 * without visible captures in the body).
 */
function checkRepeat(n: Node & { t: 'repeat' }, pattern: string, visible: (i: number) => boolean, follow: First, ctx: Context): void {
  if (n.max <= 1) return;
  const fail = (what: string): never => {
    throw new RegexError('E_REGEX_UNSUPPORTED', what, pattern, n.pos);
  };
  const caps = capsIn(n.body).filter(visible);
  if (width(n.body)[0] === 0 && n.max > n.min) {
    const ok = caps.length === 0 && !some(n.body, (x) => x.t === 'backref' || x.t === 'cond') && (n.lazy || disjoint(after(n.body), follow));
    if (!ok) fail('repeat of a subpattern that can match the empty string');
  }
  if (caps.length === 0) return;
  const mandatory = new Set<number>();
  mandatoryCaps(n.body, mandatory);
  if (refsIn(n.body).some((r) => caps.includes(r.index))) fail('reference to a group repeated in the same loop');
  if (caps.every((c) => mandatory.has(c))) return;
  // Recovered after the match (recover.ts): needs a fixed loop path given its span, so no
  // references to or inside the loop, a non-empty body, and no enclosing loop or negative/behind look.
  const recoverable =
    width(n.body)[0] > 0 && !ctx.loop && !ctx.look && !some(n.body, (x) => x.t === 'backref' || x.t === 'cond') && caps.every((c) => !ctx.refs.has(c));
  if (!recoverable) fail('capturing group that may not participate in every iteration of a repeat');
}

/** Where a node sits: inside a repeat of more than one iteration, inside a look-behind or negative look-around. */
interface Context {
  readonly loop: boolean;
  readonly look: boolean;
  readonly refs: ReadonlySet<number>;
}

/** A repeat whose named captures JS would lose (set in some iterations only): recovered after the match. */
export function needsRecovery(n: Node & { t: 'repeat' }): boolean {
  if (n.max <= 1) return false;
  const mandatory = new Set<number>();
  mandatoryCaps(n.body, mandatory);
  return some(n.body, (x) => x.t === 'cap' && x.name !== undefined && !mandatory.has(x.index));
}

/** True when every character `n` can match has no case variants (so case cannot matter). */
function caselessOnly(n: Node): boolean {
  if (n.t === 'char') return caseClass(n.cp).length === 1;
  if (n.t === 'class') return !n.neg && n.items.every((i) => (i.t === 'cat' ? i.cat === 'd' || i.cat === 's' : !hasCased(i.lo, i.hi)));
  if (n.t === 'cat') return n.cat === 'd' || n.cat === 's';
  if (n.t === 'any' || n.t === 'backref') return false;
  return children(n).every(caselessOnly);
}

/**
 * A back-reference under IGNORECASE compares case-insensitively in Python; when the group can only
 * capture characters without case variants that is the same as JavaScript's exact comparison.
 * (Date templates with `%b` are case-insensitive and reference `(?P<_sep>[-/])`.)
 */
function refersToCaselessGroup(root: Node, index: number): boolean {
  const groups: Node[] = [];
  some(root, (x) => x.t === 'cap' && x.index === index && groups.push(x) < 0);
  return groups.length > 0 && groups.every(caselessOnly);
}

/** Throws on Python syntax errors found after parsing, and on untranslatable constructs. */
export function checkTree(root: Node, pattern: string, inLookbehind = false): void {
  const refs = new Set(refsIn(root).map((r) => r.index));
  const named = new Set<number>();
  some(root, (x) => x.t === 'cap' && x.name !== undefined && named.add(x.index) === undefined);
  const visible = (i: number): boolean => named.has(i) || refs.has(i);
  const walk = (n: Node, lb: boolean, follow: First, ctx: Context): void => {
    if (n.t === 'group' && (n.kind === 'lb' || n.kind === 'nlb')) {
      const [a, b] = width(n.body);
      if (a !== b) throw new RegexError('E_REGEX_SYNTAX', 'look-behind requires fixed-width pattern', pattern, n.pos);
    }
    if (n.t === 'backref' && lb) throw new RegexError('E_REGEX_UNSUPPORTED', 'group reference inside a look-behind', pattern, n.pos);
    if (n.t === 'backref' && n.ic && !refersToCaselessGroup(root, n.index)) {
      throw new RegexError('E_REGEX_UNSUPPORTED', 'group reference with IGNORECASE', pattern, n.pos);
    }
    if (n.t === 'repeat') checkRepeat(n, pattern, visible, follow, ctx);
    const inLb = lb || (n.t === 'group' && (n.kind === 'lb' || n.kind === 'nlb'));
    const look = ctx.look || (n.t === 'group' && n.kind !== 'nc' && n.kind !== 'la');
    const inner: Context = { loop: ctx.loop || (n.t === 'repeat' && n.max > 1), look, refs };
    if (n.t === 'seq') {
      n.items.forEach((c, i) => {
        const rest = n.items.slice(i + 1);
        walk(c, inLb, rest.every(nullable) ? union(firstSeq(rest), follow) : firstSeq(rest), inner);
      });
    } else if (n.t === 'group' && n.kind !== 'nc') walk(n.body, inLb, END, inner);
    else if (n.t === 'repeat') walk(n.body, inLb, union(first(n.body), follow), inner);
    else children(n).forEach((c) => walk(c, inLb, follow, inner));
  };
  walk(root, inLookbehind, END, { loop: false, look: inLookbehind, refs });
}

/** True when the node has a single way to match (so it may be duplicated without reordering paths). */
export function deterministic(n: Node): boolean {
  return !some(n, (x) => (x.t === 'alt' && x.alts.length > 1) || (x.t === 'repeat' && x.min !== x.max) || x.t === 'cond');
}
