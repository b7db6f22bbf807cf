/** JavaScript (`u` flag) text for Python's categories, literals and character classes. */
import type { Category, ClassItem } from './ast.js';
import { caseClass, caseClose, normalize } from './casefold.js';

/** Python 3.11's `\s` for str patterns. */
const SPACE: ReadonlyArray<readonly [number, number]> = [
  [0x09, 0x0d], [0x1c, 0x20], [0x85, 0x85], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000],
];

/** Class body for Python's Unicode `\w` (verified equal to letters, numbers and `_`). */
export const WORD = '\\p{L}\\p{N}_';

function complement(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [a, b] of normalize(ranges)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const CLASS_SYNTAX = new Set('\\]-[^');

/** One code point as pattern text, escaped for the `u` flag inside or outside a class. */
export function escapeCp(cp: number, inClass: boolean): string {
  const c = String.fromCodePoint(cp);
  if (cp > 0x20 && cp < 0x7f) return (inClass ? CLASS_SYNTAX : SYNTAX).has(c) ? '\\' + c : c;
  return `\\u{${cp.toString(16)}}`;
}

function rangesText(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? escapeCp(a, true) : `${escapeCp(a, true)}-${escapeCp(b, true)}`)).join('');
}

/** A category outside a class. */
export function categoryText(cat: Category): string {
  switch (cat) {
    case 'd':
      return '\\p{Nd}';
    case 'D':
      return '\\P{Nd}';
    case 'w':
      return `[${WORD}]`;
    case 'W':
      return `[^${WORD}]`;
    case 's':
      return `[${rangesText(SPACE)}]`;
    case 'S':
      return `[^${rangesText(SPACE)}]`;
  }
}

/** A literal, expanded to its case variants under IGNORECASE. */
export function literalText(cp: number, ic: boolean): string {
  const variants = ic ? caseClass(cp) : [cp];
  if (variants.length === 1) return escapeCp(cp, false);
  return `[${variants.map((v) => escapeCp(v, true)).join('')}]`;
}

/**
 * A class. Everything but `\W` fits in one JS class (`\S` as explicit ranges); a class holding
 * `\W` becomes `(?:[...]|[^\w])`, or `(?![...])[\w]` when negated.
 */
export function classText(neg: boolean, items: readonly ClassItem[], ic: boolean): string {
  let ranges: Array<[number, number]> = [];
  let parts = '';
  let hasW = false;
  for (const it of items) {
    if (it.t === 'range') ranges.push([it.lo, it.hi]);
    else if (it.cat === 'W') hasW = true;
    else if (it.cat === 's') ranges.push(...SPACE.map(([a, b]): [number, number] => [a, b]));
    else if (it.cat === 'S') ranges.push(...complement(SPACE));
    else parts += it.cat === 'd' ? '\\p{Nd}' : it.cat === 'D' ? '\\P{Nd}' : WORD;
  }
  ranges = ic ? caseClose(ranges) : normalize(ranges);
  const body = rangesText(ranges) + parts;
  if (!hasW) return neg ? `[^${body}]` : `[${body}]`;
  if (body === '') return neg ? `[${WORD}]` : `[^${WORD}]`;
  return neg ? `(?![${body}])[${WORD}]` : `(?:[${body}]|[^${WORD}])`;
}
