/**
 * First-character analysis used to accept repeats of nullable bodies (checks.ts).
 *
 * Python and JS differ on a greedy `X{m,n}` (past its minimum) whose body X can match empty:
 * Python ends the loop after an iteration that matched empty and tries the tail there, JS rejects
 * that iteration and backtracks into X. At a loop position p both try, in order:
 *   Python: N1, tail(p), N2, tail(p)      JS: N1, N2, tail(p)
 * where N1 / N2 are X's non-empty paths before / after X's first empty path. The first success is
 * the same when N2 and tail(p) cannot both succeed, which holds when the first characters of N2
 * and of the tail are disjoint (and the tail cannot be empty), or N2 is empty. Lazy loops try
 * tail(p) first on both sides, and Python's extra attempt after an empty iteration repeats a tail
 * that already failed, so they agree (without visible captures in X). All sets here over-approximate.
 */
import type { Node } from './ast.js';
import { caseClass } from './casefold.js';
import { categoryText, classText, literalText } from './charset.js';
import { width } from './checks.js';

/** First characters: single-character nodes, or `any` (unknown); `end`: the match may end here. */
export interface First {
  readonly atoms: readonly Node[];
  readonly any: boolean;
  readonly end: boolean;
}

export const NONE: First = { atoms: [], any: false, end: false };
export const END: First = { atoms: [], any: false, end: true };
const ANY: First = { atoms: [], any: true, end: false };

export function union(...fs: readonly First[]): First {
  return { atoms: fs.flatMap((f) => f.atoms), any: fs.some((f) => f.any), end: fs.some((f) => f.end) };
}

export const nullable = (n: Node): boolean => width(n)[0] === 0;

/** First characters of the non-empty paths of `items` (a sequence). */
export function firstSeq(items: readonly Node[]): First {
  const out: First[] = [];
  for (const it of items) {
    out.push(first(it));
    if (!nullable(it)) break;
  }
  return union(...out);
}

/** First characters of the non-empty paths of `n`. */
export function first(n: Node): First {
  switch (n.t) {
    case 'char':
    case 'class':
    case 'any':
    case 'cat':
      return { atoms: [n], any: false, end: false };
    case 'seq':
      return firstSeq(n.items);
    case 'alt':
      return union(...n.alts.map(first));
    case 'cap':
      return first(n.body);
    case 'group':
      return n.kind === 'nc' ? first(n.body) : NONE;
    case 'repeat':
      return n.max === 0 ? NONE : first(n.body);
    case 'cond':
    case 'backref':
      return ANY;
    case 'anchor':
    case 'fail':
      return NONE;
  }
}

/** First characters of the non-empty paths that come after the first (possibly) empty path of `n`. */
export function after(n: Node): First {
  switch (n.t) {
    case 'char':
    case 'class':
    case 'any':
    case 'cat':
    case 'anchor':
    case 'fail':
      return NONE;
    case 'seq':
      return union(...n.items.map((it, i) => union(after(it), firstSeq(n.items.slice(i + 1)))));
    case 'alt': {
      const i = n.alts.findIndex(nullable);
      return i < 0 ? NONE : union(after(n.alts[i] as Node), ...n.alts.slice(i + 1).map(first));
    }
    case 'cap':
      return after(n.body);
    case 'group':
      return n.kind === 'nc' ? after(n.body) : NONE;
    case 'repeat':
      if (n.max === 0) return NONE;
      if (!n.lazy && n.min === 0 && !nullable(n.body)) return NONE;
      return first(n.body);
    case 'cond':
    case 'backref':
      return ANY;
  }
}

/** The code points a single-character node matches, when few enough to enumerate. */
function points(n: Node): number[] | undefined {
  if (n.t === 'char') return [...(n.ic ? caseClass(n.cp) : [n.cp])];
  if (n.t !== 'class' || n.neg || n.items.some((i) => i.t !== 'range')) return undefined;
  const out: number[] = [];
  for (const it of n.items) {
    if (it.t !== 'range' || it.hi - it.lo > 256) return undefined;
    for (let c = it.lo; c <= it.hi; c++) out.push(...(n.ic ? caseClass(c) : [c]));
  }
  return out.length > 1024 ? undefined : out;
}

function atomRegex(n: Node): RegExp {
  const src =
    n.t === 'char' ? literalText(n.cp, n.ic) : n.t === 'class' ? classText(n.neg, n.items, n.ic) : n.t === 'cat' ? categoryText(n.cat) : n.t === 'any' ? (n.dotAll ? '[\\s\\S]' : '[^\\n]') : '(?!)';
  return new RegExp(`^(?:${src})$`, 'u');
}

function atomsDisjoint(a: Node, b: Node): boolean {
  const pa = points(a);
  const pb = points(b);
  if (pa === undefined && pb === undefined) return false;
  const [pts, other] = pa !== undefined ? [pa, b] : [pb ?? [], a];
  const rx = atomRegex(other);
  return pts.every((c) => !rx.test(String.fromCodePoint(c)));
}

/** True when no character (and no end of match) is provably in both sets. */
export function disjoint(a: First, b: First): boolean {
  if (a.atoms.length === 0 && !a.any && !a.end) return true;
  if (b.atoms.length === 0 && !b.any && !b.end) return true;
  if (a.any || b.any || a.end || b.end) return false;
  return a.atoms.every((x) => b.atoms.every((y) => atomsDisjoint(x, y)));
}
