/**
 * fail2ban-regex `-D/--debuggex`: a debuggex.com link per (line, regex) pair in the printed line
 * lists — the regex with its tags resolved, the line as bytes of the log encoding (characters it
 * cannot encode dropped, Python's `errors='ignore'`), both `urllib.parse.urlencode`d.
 */
import { expandFilterTags } from '../../filter/tagExpand.js';
import { codecFamily } from '../../system/lines.js';

const UNRESERVED = /[A-Za-z0-9_.~-]/;

/** Python's `quote_plus` of bytes: unreserved ASCII kept, space as `+`, the rest `%XX`. */
export function pyQuotePlus(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** UTF-8 bytes of `s`, lone surrogates left out (UTF-8 cannot encode them; Python ignores them). */
function utf8Ignore(s: string): Uint8Array {
  return Buffer.from(s.replace(LONE_SURROGATE, ''), 'utf8');
}

/**
 * `line.encode(encoding, 'ignore')` for the encodings fail2ban-regex is run with: the UTF-8 family,
 * Latin-1 and ASCII exactly; any other codec is encoded as UTF-8.
 */
export function encodeIgnore(line: string, encoding: string): Uint8Array {
  const family = codecFamily(encoding);
  if (family !== 'latin-1' && family !== 'ascii') return utf8Ignore(line);
  const limit = family === 'latin-1' ? 0xff : 0x7f;
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c <= limit) out.push(c);
  }
  return Uint8Array.from(out);
}

/** `debuggexURL(sample, regex, multiline, useDns)`. */
export function debuggexUrl(sample: Uint8Array, regex: string, multiline: boolean, usedns: string | undefined): string {
  const re = pyQuotePlus(utf8Ignore(expandFilterTags(regex, usedns ?? '')));
  return `https://www.debuggex.com/?re=${re}&str=${pyQuotePlus(sample)}&flavor=python${multiline ? '&flags=m' : ''}`;
}
