/**
 * Log files as lines, the way fail2ban's FileContainer reads them: split at "\\n" bytes only,
 * each line decoded with the log encoding (invalid bytes replaced by U+FFFD, a BOM kept), the
 * last line kept even without a final newline. Read in chunks so that big files stay out of
 * memory; the line end is left on for the caller to strip (fail2ban strips "\\r\\n" characters).
 */
import type { FileSystem } from './fs.js';

/** Decodes bytes to text in one encoding. */
export type Decoder = (bytes: Uint8Array) => string;

const CHUNK = 1 << 20;

/** The codecs portcullis handles exactly, by Python's names for them; undefined for any other. */
export function codecFamily(encoding: string): 'utf-8' | 'latin-1' | 'ascii' | undefined {
  const e = encoding.toLowerCase().replace(/_/g, '-');
  if (['utf-8', 'utf8', 'u8', 'utf', 'cp65001'].includes(e)) return 'utf-8';
  if (['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'l1', '8859', 'cp819', 'iso-ir-100'].includes(e)) return 'latin-1';
  if (['ascii', 'us-ascii', 'ansi-x3.4-1968', '646', 'us'].includes(e)) return 'ascii';
  return undefined;
}

/** A decoder for a Python codec name: UTF-8, Latin-1 and ASCII exactly; others through WHATWG labels. Undefined if unknown. */
export function decoderFor(encoding: string): Decoder | undefined {
  const family = codecFamily(encoding);
  if (family === 'utf-8') {
    const td = new TextDecoder('utf-8', { ignoreBOM: true });
    return (b) => td.decode(b);
  }
  if (family === 'latin-1') {
    return (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
  if (family === 'ascii') {
    return (b) => {
      let s = '';
      for (let i = 0; i < b.length; i += 8192) {
        const part = b.subarray(i, i + 8192);
        s += String.fromCharCode(...Array.from(part, (c) => (c < 0x80 ? c : 0xfffd)));
      }
      return s;
    };
  }
  try {
    const td = new TextDecoder(encoding.toLowerCase().replace(/_/g, '-'), { ignoreBOM: true });
    return (b) => td.decode(b);
  } catch {
    return undefined;
  }
}

/**
 * Calls `onLine` for every line of the file (with its "\\n", if any). Returns false if the file
 * cannot be read. Stops early when `onLine` returns false. A last line without "\\n" is passed
 * only with `partialLast` (fail2ban's `waitForLineEnd = False`) or when it ends in "\\r".
 * `onChunk` hears the byte length of each chunk as it is read (before its lines are passed on).
 */
export function forEachLine(
  fs: FileSystem,
  path: string,
  decode: Decoder,
  onLine: (line: string) => boolean | void,
  partialLast = false,
  onChunk?: (bytes: number) => void,
): boolean {
  const chunks = fs.readChunks ? fs.readChunks(path, CHUNK) : (() => { const b = fs.readFile(path); return b && [b]; })();
  if (!chunks) return false;
  // Bytes of an unfinished line, kept as parts so that a huge line is joined once, not per chunk.
  let carry: Uint8Array[] = [];
  for (const chunk of chunks) {
    onChunk?.(chunk.length);
    const last = chunk.lastIndexOf(0x0a);
    if (last === -1) {
      carry.push(Buffer.from(chunk));
      continue;
    }
    let head = chunk.subarray(0, last + 1);
    if (carry.length > 0) head = Buffer.concat([...carry, head]);
    carry = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
    const text = decode(head);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (onLine(text.slice(start, nl + 1)) === false) return true;
      start = nl + 1;
    }
  }
  if (carry.length > 0) {
    const last = decode(Buffer.concat(carry));
    if (partialLast || last.endsWith('\r')) onLine(last);
  }
  return true;
}

/** `line.rstrip('\r\n')`: the line without its line end (any run of CR and LF at the end). */
export function stripLineEnd(raw: string): string {
  let n = raw.length;
  for (let c = raw.charCodeAt(n - 1); c === 10 || c === 13; c = raw.charCodeAt(n - 1)) n--;
  return n === raw.length ? raw : raw.slice(0, n);
}
