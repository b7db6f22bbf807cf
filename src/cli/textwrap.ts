/**
 * Python's `textwrap.wrap` (CPython 3.11, TextWrapper's defaults apart from `drop_whitespace`),
 * as fail2ban-client's protocol help and optparse's help formatter use it. Lengths and slices
 * are in code points, as Python's are.
 */

/** textwrap's `_whitespace`: the only characters it splits on and replaces with spaces. */
const WS = '[\\t\\n\\x0b\\x0c\\r ]';
const NWS = '[^\\t\\n\\x0b\\x0c\\r ]';
/** Python's Unicode `\w`, `[^\d\W]` (a letter) and textwrap's `word_punct`. */
const W = '[\\p{L}\\p{N}_]';
const LT = '[\\p{L}\\p{Nl}\\p{No}_]';
const WP = `[\\p{L}\\p{N}_!"'&.,?]`;

/** `TextWrapper.wordsep_re`, transcribed from CPython 3.11's `textwrap.py` (verbose mode removed). */
const WORDSEP_RE = new RegExp(
  '(' +
    `${WS}+` + // any whitespace
    `|(?<=${WP})-{2,}(?=${W})` + // em-dash between words
    `|${NWS}+?(?:` + // word, possibly hyphenated
    `-(?:(?<=${LT}{2}-)|(?<=${LT}-${LT}-))(?=${LT}-?${LT})` + // hyphenated word
    `|(?=${WS}|$)` + // end of word
    `|(?<=${WP})(?=-{2,}${W})` + // em-dash
    '))',
  'u',
);

/** Python's `str.strip() == ''` (its whitespace set). */
const PY_SPACE_ONLY = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/u;

/** Python's `len()` on a str: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  return s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

/** `str.expandtabs(8)` followed by `_munge_whitespace`'s translation of whitespace to spaces. */
function mungeWhitespace(text: string): string {
  let out = '';
  let column = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const pad = 8 - (column % 8);
      out += ' '.repeat(pad);
      column += pad;
    } else if (ch === '\n' || ch === '\r') {
      out += ' ';
      column = 0;
    } else {
      out += ch === '\x0b' || ch === '\x0c' ? ' ' : ch;
      column++;
    }
  }
  return out;
}

/** `TextWrapper._handle_long_word` with `break_long_words` and `break_on_hyphens` on. */
function handleLongWord(reversedChunks: string[], curLine: string[], curLen: number, width: number): void {
  const spaceLeft = width < 1 ? 1 : width - curLen;
  let end = spaceLeft;
  const chunk = Array.from(reversedChunks[reversedChunks.length - 1] ?? '');
  if (chunk.length > spaceLeft) {
    // chunk.rfind('-', 0, space_left): break after the last hyphen with non-hyphens before it.
    const hyphen = chunk.slice(0, Math.max(spaceLeft, 0)).lastIndexOf('-');
    if (hyphen > 0 && chunk.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
  }
  curLine.push(chunk.slice(0, end).join(''));
  reversedChunks[reversedChunks.length - 1] = chunk.slice(end).join('');
}

/**
 * `textwrap.wrap(text, width, drop_whitespace=…)`: splits `text` into chunks of whitespace and
 * (possibly hyphenated) words and packs them greedily into lines of at most `width` code points.
 * With `dropWhitespace` (Python's default) whitespace at the start of a later line and at the end
 * of each line is dropped.
 */
export function pyTextWrap(text: string, width: number, dropWhitespace = true): string[] {
  if (width <= 0) throw new RangeError(`invalid width ${width} (must be > 0)`);
  const chunks = mungeWhitespace(text)
    .split(WORDSEP_RE)
    .filter((c) => c !== '');
  chunks.reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const curLine: string[] = [];
    let curLen = 0;
    if (dropWhitespace && lines.length > 0 && PY_SPACE_ONLY.test(chunks[chunks.length - 1] ?? '')) chunks.pop();
    while (chunks.length > 0) {
      const l = pyLen(chunks[chunks.length - 1] ?? '');
      if (curLen + l > width) break;
      curLine.push(chunks.pop() ?? '');
      curLen += l;
    }
    if (chunks.length > 0 && pyLen(chunks[chunks.length - 1] ?? '') > width) {
      handleLongWord(chunks, curLine, curLen, width);
    }
    if (dropWhitespace && curLine.length > 0 && PY_SPACE_ONLY.test(curLine[curLine.length - 1] ?? '')) curLine.pop();
    if (curLine.length > 0) lines.push(curLine.join(''));
  }
  return lines;
}
