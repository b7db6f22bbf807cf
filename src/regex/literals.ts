/**
 * Required literals: text that every match of a pattern must contain somewhere in the subject.
 * `subject.includes(literal)` is then an exact, cheap pre-check — a line without it cannot match,
 * so the regex need not run. Case-insensitive characters, alternations, optional parts and
 * back-references contribute nothing (the analysis only ever under-approximates).
 */
import type { Node } from './ast.js';
import { parsePython } from './parser.js';
import type { PythonRegexOptions } from './translate.js';

interface Req {
  /** Literal substrings the match (or, for look-arounds, the subject) must contain. */
  readonly lits: string[];
  /** The exact text the node always matches, when it is a fixed literal ('' for zero-width). */
  readonly exact: string | undefined;
}

function single(items: readonly { t: string; lo?: number; hi?: number }[]): number | undefined {
  const [only] = items;
  return items.length === 1 && only?.t === 'range' && only.lo === only.hi ? only.lo : undefined;
}

function req(n: Node): Req {
  switch (n.t) {
    case 'char':
      return n.ic ? { lits: [], exact: undefined } : { lits: [], exact: String.fromCodePoint(n.cp) };
    case 'class': {
      const cp = !n.neg && !n.ic ? single(n.items) : undefined;
      return { lits: [], exact: cp === undefined ? undefined : String.fromCodePoint(cp) };
    }
    case 'anchor':
      return { lits: [], exact: '' };
    case 'cap':
      return req(n.body);
    case 'group': {
      if (n.kind === 'nc') return req(n.body);
      // A positive look-around's text is in the subject too; negative ones promise nothing.
      const inner = n.kind === 'la' || n.kind === 'lb' ? req(n.body) : { lits: [], exact: undefined };
      return { lits: inner.exact ? [...inner.lits, inner.exact] : inner.lits, exact: '' };
    }
    case 'repeat': {
      if (n.min < 1) return { lits: [], exact: n.max === 0 ? '' : undefined };
      const body = req(n.body);
      const lits = body.exact ? [...body.lits, body.exact] : body.lits;
      return { lits, exact: body.exact !== undefined && n.min === n.max ? body.exact.repeat(n.min) : undefined };
    }
    case 'seq': {
      const lits: string[] = [];
      let run = '';
      let allExact = true;
      for (const item of n.items) {
        const r = req(item);
        lits.push(...r.lits);
        if (r.exact !== undefined) run += r.exact;
        else {
          allExact = false;
          if (run) lits.push(run);
          run = '';
        }
      }
      if (allExact) return { lits, exact: run };
      if (run) lits.push(run);
      return { lits, exact: undefined };
    }
    case 'alt': {
      const rs = n.alts.map(req);
      const first = rs[0]?.exact;
      const same = first !== undefined && rs.every((r) => r.exact === first);
      return { lits: [], exact: same ? first : undefined };
    }
    case 'any':
    case 'cat':
    case 'backref':
    case 'cond':
    case 'fail':
      return { lits: [], exact: undefined };
  }
}

/** The longest literal every match needs, or undefined. Throws like the translator on invalid patterns. */
export function requiredLiteral(pattern: string, opts: PythonRegexOptions = {}): string | undefined {
  const parsed = parsePython(pattern, { ic: opts.ignoreCase ?? false, ml: opts.multiline ?? false, dotAll: opts.dotAll ?? false });
  const r = req(parsed.root);
  const all = r.exact ? [...r.lits, r.exact] : r.lits;
  let best: string | undefined;
  for (const l of all) if (l.length > (best?.length ?? 0)) best = l;
  return best;
}

/** What can start a match of a node: a set of UTF-16 code units, or null for "anything". */
interface First {
  readonly units: Set<number> | null;
  /** Whether the node can match the empty string (then what follows it can start the match too). */
  readonly nullable: boolean;
}

const ANYTHING: First = { units: null, nullable: false };
/** Classes larger than this are not worth a set. */
const MAX_CLASS = 64;

function union(a: Set<number> | null, b: Set<number> | null): Set<number> | null {
  if (a === null || b === null) return null;
  const out = new Set(a);
  for (const u of b) out.add(u);
  return out;
}

function first(n: Node): First {
  switch (n.t) {
    case 'char':
      // Case-insensitive characters fold in Unicode ways (K, Kelvin sign …): no set.
      return n.ic ? ANYTHING : { units: new Set([String.fromCodePoint(n.cp).charCodeAt(0)]), nullable: false };
    case 'class': {
      if (n.neg || n.ic) return ANYTHING;
      const units = new Set<number>();
      for (const item of n.items) {
        if (item.t !== 'range' || item.hi > 0xd7ff || item.hi - item.lo >= MAX_CLASS) return ANYTHING;
        for (let c = item.lo; c <= item.hi; c++) units.add(c);
      }
      return units.size > MAX_CLASS ? ANYTHING : { units, nullable: false };
    }
    case 'anchor':
      // Zero-width: it only narrows where a match may be, so ignoring it over-approximates.
      return { units: new Set(), nullable: true };
    case 'cap':
      return first(n.body);
    case 'group':
      return n.kind === 'nc' ? first(n.body) : { units: new Set(), nullable: true };
    case 'repeat': {
      if (n.max === 0) return { units: new Set(), nullable: true };
      const body = first(n.body);
      return { units: body.units, nullable: body.nullable || n.min === 0 };
    }
    case 'seq': {
      let units: Set<number> | null = new Set();
      for (const item of n.items) {
        const f = first(item);
        units = union(units, f.units);
        if (units === null) return ANYTHING;
        if (!f.nullable) return { units, nullable: false };
      }
      return { units, nullable: true };
    }
    case 'alt': {
      let units: Set<number> | null = new Set();
      let nullable = false;
      for (const a of n.alts) {
        const f = first(a);
        units = union(units, f.units);
        if (units === null) return ANYTHING;
        nullable ||= f.nullable;
      }
      return { units, nullable };
    }
    case 'any':
    case 'cat':
    case 'backref':
    case 'cond':
    case 'fail':
      return ANYTHING;
  }
}

/**
 * For a pattern anchored at the start of the subject (a leading non-multiline `^` or `\A`): the
 * UTF-16 code units a match can begin with, so `units.has(subject.charCodeAt(0))` is an exact
 * pre-check for `search(subject)`. Undefined when the pattern is not so anchored, can match the
 * empty string, or can begin with too many characters to be worth it.
 */
export function firstCodeUnits(pattern: string, opts: PythonRegexOptions = {}): ReadonlySet<number> | undefined {
  const parsed = parsePython(pattern, { ic: opts.ignoreCase ?? false, ml: opts.multiline ?? false, dotAll: opts.dotAll ?? false });
  const root = parsed.root;
  const items = root.t === 'seq' ? root.items : [root];
  const head = items[0];
  if (head?.t !== 'anchor' || !((head.kind === 'bol' && !head.multiline) || head.kind === 'bos')) return undefined;
  const f = first({ t: 'seq', items: items.slice(1) });
  return f.units === null || f.nullable || f.units.size === 0 ? undefined : f.units;
}
