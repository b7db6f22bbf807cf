/** Backslash escapes and character classes, following Python 3.11's sre_parse rules for str patterns. */
import type { Category, ClassItem, Node } from './ast.js';
import { type Cursor, isDigit, isHex, isOctal } from './cursor.js';

const SIMPLE: Readonly<Record<string, number>> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const CATS = new Set(['d', 'D', 'w', 'W', 's', 'S']);

/** An escape outside a class: a literal, a category, an assertion, or a group reference by number. */
export type Escape =
  | { readonly k: 'lit'; readonly cp: number }
  | { readonly k: 'cat'; readonly cat: Category }
  | { readonly k: 'anchor'; readonly kind: 'bos' | 'eos' | 'wb' | 'nwb' }
  | { readonly k: 'ref'; readonly index: number };

/** `\x..`, `\u....`, `\U........`, `\N{...}`: the code point, or undefined when `c` is not one of them. */
function hexEscape(cur: Cursor, c: string, start: number): number | undefined {
  const len = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (c === 'N') cur.fail('E_REGEX_UNSUPPORTED', '\\N{...} named character escape', start);
  if (len === 0) return undefined;
  const digits = cur.take(isHex, len);
  if (digits.length !== len) cur.fail('E_REGEX_SYNTAX', `incomplete escape \\${c}${digits}`, start);
  const cp = parseInt(digits, 16);
  if (cp > 0x10ffff) cur.fail('E_REGEX_SYNTAX', `bad escape \\${c}${digits}`, start);
  return cp;
}

/** Octal escape: `first` already read, up to `more` further octal digits. */
function octal(cur: Cursor, first: string, more: number, start: number): number {
  const v = parseInt(first + cur.take(isOctal, more), 8);
  if (v > 0o377) cur.fail('E_REGEX_SYNTAX', `octal escape value outside of range 0-0o377`, start);
  return v;
}

/** The escape after a backslash outside a class (the backslash is consumed). */
export function parseEscape(cur: Cursor): Escape {
  const start = cur.pos - 1;
  const c = cur.next();
  if (c === undefined) return cur.fail('E_REGEX_SYNTAX', 'bad escape (end of pattern)', start);
  if (CATS.has(c)) return { k: 'cat', cat: c as Category };
  const anchors: Record<string, 'bos' | 'eos' | 'wb' | 'nwb'> = { A: 'bos', Z: 'eos', b: 'wb', B: 'nwb' };
  const a = anchors[c];
  if (a) return { k: 'anchor', kind: a };
  const simple = SIMPLE[c];
  if (simple !== undefined) return { k: 'lit', cp: simple };
  const hex = hexEscape(cur, c, start);
  if (hex !== undefined) return { k: 'lit', cp: hex };
  if (c === '0') return { k: 'lit', cp: octal(cur, '0', 2, start) };
  if (isDigit(c)) {
    const d2 = cur.peek();
    if (d2 !== undefined && isDigit(d2)) {
      cur.next();
      const d3 = cur.peek();
      if (isOctal(c) && isOctal(d2) && d3 !== undefined && isOctal(d3)) return { k: 'lit', cp: octal(cur, c + d2, 1, start) };
      return { k: 'ref', index: Number(c + d2) };
    }
    return { k: 'ref', index: Number(c) };
  }
  if (/^[A-Za-z]$/.test(c)) cur.fail('E_REGEX_SYNTAX', `bad escape \\${c}`, start);
  return { k: 'lit', cp: c.codePointAt(0) ?? 0 };
}

/** One class member after a backslash inside `[...]`: a literal code point or a category. */
function classEscape(cur: Cursor): { lit: number } | { cat: Category } {
  const start = cur.pos - 1;
  const c = cur.next();
  if (c === undefined) return cur.fail('E_REGEX_SYNTAX', 'unterminated character set', start);
  if (c === 'b') return { lit: 8 };
  if (CATS.has(c)) return { cat: c as Category };
  const simple = SIMPLE[c];
  if (simple !== undefined) return { lit: simple };
  const hex = hexEscape(cur, c, start);
  if (hex !== undefined) return { lit: hex };
  if (isOctal(c)) return { lit: octal(cur, c, 2, start) };
  if (/^[A-Za-z0-9]$/.test(c)) cur.fail('E_REGEX_SYNTAX', `bad escape \\${c}`, start);
  return { lit: c.codePointAt(0) ?? 0 };
}

/** One class member at the cursor (not `]` as terminator): literal or category. */
function classAtom(cur: Cursor, start: number): { lit: number } | { cat: Category } {
  const c = cur.next();
  if (c === undefined) return cur.fail('E_REGEX_SYNTAX', 'unterminated character set', start);
  return c === '\\' ? classEscape(cur) : { lit: c.codePointAt(0) ?? 0 };
}

/** Parses a class; the `[` is consumed. `]` right after `[` or `[^` is a literal, as in Python. */
export function parseClass(cur: Cursor, ic: boolean): Node {
  const start = cur.pos - 1;
  const neg = cur.eat('^');
  const items: ClassItem[] = [];
  for (;;) {
    if (cur.peek() === ']' && items.length > 0) {
      cur.next();
      return { t: 'class', neg, items, ic };
    }
    const atomAt = cur.pos;
    const a = classAtom(cur, start);
    if (cur.peek() === '-' && cur.src[cur.pos + 1] !== ']' && cur.pos + 1 < cur.src.length) {
      cur.next();
      const b = classAtom(cur, start);
      if (!('lit' in a) || !('lit' in b)) return cur.fail('E_REGEX_SYNTAX', 'bad character range', atomAt);
      if (b.lit < a.lit) cur.fail('E_REGEX_SYNTAX', 'bad character range', atomAt);
      items.push({ t: 'range', lo: a.lit, hi: b.lit });
    } else {
      items.push('lit' in a ? { t: 'range', lo: a.lit, hi: a.lit } : { t: 'cat', cat: a.cat });
    }
  }
}
