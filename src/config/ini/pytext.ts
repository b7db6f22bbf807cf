/** Python `str` helpers the configparser dialect depends on (whitespace differs from JavaScript's). */

/** Characters Python's `str.isspace()` accepts (JavaScript's `\s` differs: it has U+FEFF, lacks \x1c-\x1f and \x85). */
export const PY_SPACE = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';


/** `str.isspace()` for one UTF-16 unit (no whitespace lies outside the BMP). */
export function pyIsSpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Characters where Python's and JavaScript's ideas of whitespace differ. */
const WS_DIFFERS = /[\x1c-\x1f\x85\ufeff]/;

/** `str.strip()`. */
export function pyStrip(s: string): string {
  // The native trim agrees with Python unless one of the few disputed characters is present.
  if (!WS_DIFFERS.test(s)) return s.trim();
  let start = 0;
  let end = s.length;
  while (start < end && pyIsSpaceCode(s.charCodeAt(start))) start++;
  while (end > start && pyIsSpaceCode(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** `str.rstrip()`. */
export function pyRstrip(s: string): string {
  if (!WS_DIFFERS.test(s)) return s.trimEnd();
  let end = s.length;
  while (end > 0 && pyIsSpaceCode(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** `str.isspace()` for one character. */
export function pyIsSpace(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && pyIsSpaceCode(ch.charCodeAt(0));
}

/** Lines as Python's text mode yields them (universal newlines: \r\n, \r and \n all become \n). */
export function pyTextLines(text: string): string[] {
  const normalised = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
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
