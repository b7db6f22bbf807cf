/** Python `str` helpers the configparser dialect depends on (whitespace differs from JavaScript's). */

/** Characters Python's `str.isspace()` accepts (JavaScript's `\s` differs: it has U+FEFF, lacks \x1c-\x1f and \x85). */
export const PY_SPACE = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const LEADING = new RegExp(`^[${PY_SPACE}]+`);
const TRAILING = new RegExp(`[${PY_SPACE}]+$`);
const SPACE_CHAR = new RegExp(`^[${PY_SPACE}]$`);

/** `str.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, '').replace(TRAILING, '');
}

/** `str.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, '');
}

/** `str.isspace()` for one character. */
export function pyIsSpace(ch: string | undefined): boolean {
  return ch !== undefined && SPACE_CHAR.test(ch);
}

/** Lines as Python's text mode yields them (universal newlines: \r\n, \r and \n all become \n). */
export function pyTextLines(text: string): string[] {
  const normalised = text.replace(/\r\n?/g, '\n');
  const lines = normalised.split('\n').map((l) => l + '\n');
  const last = lines.pop();
  if (last !== undefined && last !== '\n') lines.push(last.slice(0, -1));
  return lines;
}

/** Decodes UTF-8 strictly, as Python's `open(encoding='utf-8')` does; undefined on invalid bytes. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
