/**
 * Where a Python pattern's capturing groups sit, from the parser (so escapes, classes, comments and
 * flags are read exactly as Python reads them): for callers that rewrite the pattern's text around
 * its groups.
 */
import { children, type Node } from './ast.js';
import { parsePython } from './parser.js';

export interface GroupLayout {
  /** Python group number → offset of its `(` and its name. */
  readonly groups: ReadonlyMap<number, { readonly pos: number; readonly name: string | undefined }>;
  /** Groups that are a direct item of the top-level sequence (not inside an alternation, a repeat or another group). */
  readonly topLevel: ReadonlySet<number>;
  /** Whether a back-reference or conditional names a group by number (`\1`, `(?(1)…)`), so renumbering would change it. */
  readonly numberedRefs: boolean;
}

/** The layout of `pattern`; throws RegexError where the translator would. */
export function groupLayout(pattern: string): GroupLayout {
  const { root } = parsePython(pattern, { ic: false, ml: false, dotAll: false });
  const groups = new Map<number, { pos: number; name: string | undefined }>();
  let numberedRefs = false;
  const walk = (n: Node): void => {
    if (n.t === 'cap') groups.set(n.index, { pos: n.pos, name: n.name });
    if (n.t === 'backref' && pattern[n.pos] === '\\') numberedRefs = true;
    if (n.t === 'cond' && /^\(\?\(\d/.test(pattern.slice(n.pos, n.pos + 4))) numberedRefs = true;
    for (const c of children(n)) walk(c);
  };
  walk(root);
  const items = root.t === 'seq' ? root.items : [root];
  const topLevel = new Set(items.flatMap((n) => (n.t === 'cap' ? [n.index] : [])));
  return { groups, topLevel, numberedRefs };
}
