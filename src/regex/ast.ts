/** The syntax tree a Python pattern is parsed into (one node per construct; positions for errors). */

/** `\d \D \w \W \s \S` with Python's Unicode meaning. */
export type Category = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

/** A member of a character class: an inclusive code point range or a category. */
export type ClassItem = { readonly t: 'range'; readonly lo: number; readonly hi: number } | { readonly t: 'cat'; readonly cat: Category };

/** Zero-width assertions: `^` `$` (with their MULTILINE variant), `\A`, `\Z`, `\b`, `\B`. */
export type AnchorKind = 'bol' | 'eol' | 'bos' | 'eos' | 'wb' | 'nwb';

/** Kinds of non-capturing groups. */
export type GroupKind = 'nc' | 'la' | 'nla' | 'lb' | 'nlb';

export type Node =
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly alts: readonly Node[] }
  | { readonly t: 'char'; readonly cp: number; readonly ic: boolean }
  | { readonly t: 'class'; readonly neg: boolean; readonly items: readonly ClassItem[]; readonly ic: boolean }
  | { readonly t: 'any'; readonly dotAll: boolean }
  | { readonly t: 'cat'; readonly cat: Category }
  | { readonly t: 'anchor'; readonly kind: AnchorKind; readonly multiline: boolean }
  /** A capturing group: `index` is Python's group number, `uid` identifies this copy after expansion. */
  | { readonly t: 'cap'; readonly index: number; readonly name: string | undefined; readonly uid: number; readonly body: Node; readonly pos: number }
  | { readonly t: 'group'; readonly kind: GroupKind; readonly body: Node; readonly pos: number }
  | { readonly t: 'repeat'; readonly min: number; readonly max: number; readonly lazy: boolean; readonly body: Node; readonly pos: number }
  /** A backreference: before expansion by Python group `index`; after, to the copy `uid`. */
  | { readonly t: 'backref'; readonly index: number; readonly uid: number | undefined; readonly ic: boolean; readonly pos: number }
  | { readonly t: 'cond'; readonly index: number; readonly yes: Node; readonly no: Node; readonly pos: number }
  /** Never matches (a backreference to a group that did not participate). */
  | { readonly t: 'fail' };

/** Python's MAXREPEAT stands for "no upper bound". */
export const INF = Number.POSITIVE_INFINITY;

/** The empty sequence. */
export const EMPTY: Node = { t: 'seq', items: [] };

/** A sequence, flattened by one level and unwrapped when it has one item. */
export function seq(items: readonly Node[]): Node {
  const flat: Node[] = [];
  for (const it of items) {
    if (it.t === 'seq') flat.push(...it.items);
    else flat.push(it);
  }
  return flat.length === 1 && flat[0] ? flat[0] : { t: 'seq', items: flat };
}

/** An alternation, unwrapped when it has one alternative. */
export function alt(alts: readonly Node[]): Node {
  return alts.length === 1 && alts[0] ? alts[0] : { t: 'alt', alts };
}

/** The direct children of a node. */
export function children(n: Node): readonly Node[] {
  switch (n.t) {
    case 'seq':
      return n.items;
    case 'alt':
      return n.alts;
    case 'cap':
    case 'group':
    case 'repeat':
      return [n.body];
    case 'cond':
      return [n.yes, n.no];
    case 'anchor':
    case 'any':
    case 'cat':
    case 'char':
    case 'class':
    case 'fail':
    case 'backref':
      return [];
  }
}

/** True when some node in the tree satisfies `pred`. */
export function some(n: Node, pred: (n: Node) => boolean): boolean {
  return pred(n) || children(n).some((c) => some(c, pred));
}
