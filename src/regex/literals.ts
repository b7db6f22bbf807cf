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
