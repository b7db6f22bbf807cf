/**
 * Python's `pprint.pformat(obj, width, indent)` for the values the configuration stream holds
 * (lists, strings, numbers, booleans, None): what `fail2ban-client --dp` prints.
 */
import { type PyValue, pyRepr, pyReprString } from './pyvalue.js';

interface Printer {
  readonly width: number;
  readonly indentPerLevel: number;
  out: string;
}

/** Python's `len()` counts code points, not UTF-16 units. */
function pyLen(s: string): number {
  let n = s.length;
  // Each surrogate pair is one code point but two UTF-16 units.
  for (const m of s.matchAll(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)) if (m) n--;
  return n;
}

/** `str.splitlines(True)`: keeps the line ends; knows Python's set of line boundaries. */
function splitLinesKeepEnds(s: string): string[] {
  return s.match(/[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]|$)/g)?.filter((p) => p !== '') ?? [];
}

function formatValue(p: Printer, obj: PyValue, indent: number, allowance: number, level: number): void {
  const rep = pyRepr(obj);
  const maxWidth = p.width - indent - allowance;
  if (pyLen(rep) > maxWidth) {
    if (Array.isArray(obj)) return formatList(p, obj as readonly PyValue[], indent, allowance, level + 1);
    if (typeof obj === 'string') return formatString(p, obj, indent, allowance, level + 1);
  }
  p.out += rep;
}

function formatList(p: Printer, items: readonly PyValue[], indent: number, allowance: number, level: number): void {
  p.out += '[';
  const inner = indent + p.indentPerLevel;
  if (p.indentPerLevel > 1) p.out += ' '.repeat(p.indentPerLevel - 1);
  const delimNl = ',\n' + ' '.repeat(inner);
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    if (i > 0) p.out += delimNl;
    formatValue(p, item, inner, last ? allowance + 1 : 1, level);
  });
  p.out += ']';
}

/** `re.findall(r'\S*\s*', line)` with Python's `\s` (str.isspace: adds \x1c-\x1f and \x85, lacks \ufeff). */
const PY_WORD_SPACE = /[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/gu;

function chunkLine(line: string, maxWidth: number, allowance: number, isLastLine: boolean): string[] {
  const parts = line.match(PY_WORD_SPACE)?.filter((s) => s !== '') ?? [];
  const chunks: string[] = [];
  let width = maxWidth;
  let current = '';
  parts.forEach((part, j) => {
    const candidate = current + part;
    if (j === parts.length - 1 && isLastLine) width -= allowance;
    if (pyLen(pyReprString(candidate)) > width) {
      if (current !== '') chunks.push(pyReprString(current));
      current = part;
    } else {
      current = candidate;
    }
  });
  if (current !== '') chunks.push(pyReprString(current));
  return chunks;
}

function formatString(p: Printer, s: string, indentIn: number, allowanceIn: number, level: number): void {
  if (s === '') {
    p.out += pyReprString(s);
    return;
  }
  let indent = indentIn;
  let allowance = allowanceIn;
  if (level === 1) {
    indent += 1;
    allowance += 1;
  }
  const lines = splitLinesKeepEnds(s);
  const maxWidth = p.width - indent;
  let maxWidth1 = maxWidth;
  const chunks: string[] = [];
  let rep = '';
  lines.forEach((line, i) => {
    rep = pyReprString(line);
    const isLast = i === lines.length - 1;
    if (isLast) maxWidth1 -= allowance;
    if (pyLen(rep) <= maxWidth1) chunks.push(rep);
    else chunks.push(...chunkLine(line, maxWidth, allowance, isLast));
  });
  if (chunks.length === 1) {
    p.out += rep;
    return;
  }
  if (level === 1) p.out += '(';
  p.out += chunks.join('\n' + ' '.repeat(indent));
  if (level === 1) p.out += ')';
}

/** `pprint.pformat(obj, width=width, indent=indent)`. */
export function pyPformat(obj: PyValue, width = 80, indent = 1): string {
  const p: Printer = { width, indentPerLevel: indent, out: '' };
  formatValue(p, obj, 0, 0, 0);
  return p.out;
}
