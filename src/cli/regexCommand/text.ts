/** Small text helpers for `portcullis regex`: thousands separators, safe display, finding an id in a line. */

/** An integer with "," every three digits (locale-independent): 1234567 → "1,234,567". */
export function group(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  const parts: string[] = [];
  for (let end = s.length; end > 0; end -= 3) parts.unshift(s.slice(Math.max(0, end - 3), end));
  return (n < 0 ? '-' : '') + parts.join(',');
}

/**
 * Text from a log or the command line made safe for a terminal: control characters (C0 other
 * than tab, DEL, C1) are shown as `\xNN` so that a log line cannot move the cursor or set colours.
 */
export function visible(s: string): string {
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Where `token` occurs in `line` as a whole token (no letter or digit right before or after),
 * else its first occurrence at all; undefined if it does not occur (or is empty).
 */
export function findToken(line: string, token: string): readonly [number, number] | undefined {
  if (token === '') return undefined;
  const first = line.indexOf(token);
  if (first === -1) return undefined;
  for (let at = first; at !== -1; at = line.indexOf(token, at + 1)) {
    const end = at + token.length;
    if ((at === 0 || !isWordChar(line.charCodeAt(at - 1))) && (end === line.length || !isWordChar(line.charCodeAt(end)))) return [at, end];
  }
  return [first, first + token.length];
}
