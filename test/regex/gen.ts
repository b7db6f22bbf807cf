/** Random Python patterns and subjects for the differential fuzz (fuzz.test.ts). */
export const ALPHABET = ['a', 'b', 'k', 'K', 'K', 's', 'ſ', 'é', 'É', 'ß', 'ǅ', 'ǆ', '٣', '1', '_', ' ', '\n', '\r', '\u2028', '\x1c', '\x85', '\ufeff', '-', ':', ']', '{'];
const LITERALS = ['a', 'b', 'k', 'K', 's', 'é', 'ß', 'ǅ', '٣', '1', ' ', '\\n', '-', ':', '\\:', '\\-', '\\]', '\\{', '{', '}', '\\x1c', '\\.', '.'];
const CLASS_ITEMS = ['a', 'k', 'é', 'ß', '\\w', '\\W', '\\d', '\\D', '\\s', '\\S', 'a-k', '\\-', '\\]', '.', '\\x1c', '٣'];
const QUANTS = ['', '', '', '', '*', '+', '?', '*?', '+?', '??', '{,2}', '{1,2}', '{2}', '{2,}'];
/** Groups get bounded quantifiers only, so Python does not backtrack exponentially. */
const GROUP_QUANTS = ['', '', '', '?', '??', '{2}', '{0,1}', '{1,2}?'];

/** Pattern generator over the translated constructs. */
export class Gen {
  private names: string[] = [];
  private closed: string[] = [];
  private groups = 0;

  constructor(private readonly r: (n: number) => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[this.r(xs.length)] as T;
  }

  pattern(): string {
    this.names = [];
    this.closed = [];
    this.groups = 0;
    const prefix = this.r(8) === 0 ? '(?i)' : '';
    return prefix + this.alt(2);
  }

  private alt(depth: number): string {
    const n = this.r(4) === 0 ? 2 : 1;
    return Array.from({ length: n }, () => this.seq(depth)).join('|');
  }

  private seq(depth: number): string {
    return Array.from({ length: 1 + this.r(4) }, () => {
      const a = this.atom(depth);
      if (/^(?:\(\?<?[=!]|\^|\$|\\[bBAZ])/.test(a)) return a;
      return a + this.pick(a.startsWith('(') ? GROUP_QUANTS : QUANTS);
    }).join('');
  }

  private cls(): string {
    const items = Array.from({ length: 1 + this.r(3) }, () => this.pick(CLASS_ITEMS)).join('');
    return '[' + (this.r(3) === 0 ? '^' : '') + (this.r(6) === 0 ? ']' : '') + items + ']';
  }

  private atom(depth: number): string {
    const k = this.r(depth > 0 ? 16 : 9);
    if (k <= 2) return this.pick(LITERALS);
    if (k === 3) return this.pick(['.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S']);
    if (k === 4) return this.cls();
    if (k === 5) return this.pick(['^', '$', '\\b', '\\B', '\\A', '\\Z']);
    if (k === 6 && this.closed.length > 0) return `(?P=${this.pick(this.closed)})`;
    if (k <= 8) return this.pick(LITERALS);
    return this.group(depth - 1, k);
  }

  private group(depth: number, k: number): string {
    if (k === 9 || k === 10) {
      const name = `g${++this.groups}`;
      this.names.push(name);
      const body = this.alt(depth);
      this.closed.push(name);
      return `(?P<${name}>${body})`;
    }
    if (k === 11 && this.names.length > 0) {
      const name = this.pick(this.names);
      const yes = this.seq(depth);
      const no = this.r(3) === 0 ? '' : '|' + this.seq(depth);
      return `(?(${name})${yes}${no})`;
    }
    if (k === 12) return `(?i:${this.alt(depth)})`;
    if (k === 13) return `(?${this.pick(['=', '!', '<=', '<!'])}${this.pick(LITERALS)}${this.r(2) ? '' : this.pick(['\\w', '\\s'])})`;
    if (k === 14) return `(?:${this.alt(depth)})`;
    this.groups++;
    return `(${this.alt(depth)})`;
  }
}


/** Loop bodies for the repeat fuzz: nullable pieces, non-nullable pieces, unnamed groups. */
const LOOP_NULLABLE = ['', 'a*', 'a?', '[^\\]"]*', '(a?)', '(?:b|)', '(?:|b)', '\\b', '(?=a)', 'a*?', '(a)?', 'k{0,2}', '(?:ab)*', 'a??', '(?:a*|b)'];
const LOOP_SOLID = ['a', 'b', '"[^"]*"', 'ab', '(a)', '[ab]', '\\w', 'a+', '(?:a|b)', 'b(a*)', '\\]', 'ba?', '(?:k|a)b?'];
const LOOP_QUANTS = ['*', '+', '*?', '+?', '{0,3}', '{1,3}', '{2,}', '{,2}?', '{2,4}'];
const LOOP_TAILS = ['', '', 'a', 'b', '\\]', '"', '$', '(?P<t>b)', '(?:a|b)', '.', '\\w', '(?:a|$)', '\\]x', 'b+', '(?=b)', '(?!a)', '\\Z', 'k'];
export const LOOP_ALPHABET = ['a', 'b', 'a', 'b', '"', ']', 'k', ' ', 'x'];

/** Patterns with a loop (possibly over a nullable body, possibly with named groups set in some iterations only), for the repeat fuzz. */
export function loopPattern(r: (n: number) => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)] as T;
  let names = 0;
  const plain = (): string => (r(2) === 0 ? pick(LOOP_NULLABLE) : pick(LOOP_SOLID));
  const piece = (): string => (r(3) === 0 ? `(?P<c${++names}>${plain()})` + pick(['', '', '?', '+']) : plain());
  const body = Array.from({ length: 1 + r(3) }, () => (r(4) === 0 ? piece() + piece() : piece())).join('|');
  const loop = (r(4) === 0 ? `(${body})` : `(?:${body})`) + pick(LOOP_QUANTS);
  const inner = r(3) === 0 ? `(?:\\[${loop}\\])+` : r(6) === 0 ? `(?=${loop})\\w` : loop;
  const prefix = pick(['', '', 'a', '\\[', '^', 'b?', ' ']);
  const wrapped = r(2) === 0 ? `(?P<L>${inner})` : inner;
  return prefix + wrapped + pick(LOOP_TAILS) + (r(4) === 0 ? pick(LOOP_TAILS) : '');
}
