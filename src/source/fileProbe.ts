/**
 * Small positional reads of a log file by descriptor: the first line's SHA-1 (fail2ban's
 * `firstlinemd5`) and its first bytes, the start of the next line, one byte — the probes the
 * rotation checks and seekToTime use.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

const SCAN = 64 * 1024;
const PREFIX = 512;

/** SHA-1 hex of the first line with its line end, '' if the file is empty or the line unfinished (fail2ban's rule: a final "\r" counts as an end). */
export function firstLineHash(fd: number): string {
  return firstLine(fd).hash;
}

/** The hash, and the first bytes of the line (compared on every read: a cheap check between hash checks). */
export function firstLine(fd: number): { hash: string; prefix: Buffer } {
  const hash = createHash('sha1');
  const buf = Buffer.allocUnsafe(SCAN);
  let lastByte = -1;
  let prefix: Buffer | undefined;
  for (let off = 0; ; ) {
    const n = readSync(fd, buf, 0, SCAN, off);
    if (n <= 0) return { hash: lastByte === 13 ? hash.digest('hex') : '', prefix: prefix ?? Buffer.alloc(0) };
    const nl = buf.subarray(0, n).indexOf(10);
    prefix ??= Buffer.from(buf.subarray(0, Math.min(nl === -1 ? n : nl + 1, PREFIX)));
    if (nl !== -1) return { hash: hash.update(buf.subarray(0, nl + 1)).digest('hex'), prefix };
    hash.update(buf.subarray(0, n));
    lastByte = buf[n - 1] ?? -1;
    off += n;
  }
}

export function prefixMatches(fd: number, prefix: Buffer): boolean {
  const b = Buffer.allocUnsafe(prefix.length);
  return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(prefix);
}

/** The position after the first "\n" at or after `from`, or `limit` if there is none before it. */
export function nextLineStart(fd: number, from: number, limit: number): number {
  const buf = Buffer.allocUnsafe(SCAN);
  for (let off = from; off < limit; ) {
    const n = readSync(fd, buf, 0, Math.min(SCAN, limit - off), off);
    if (n <= 0) return limit;
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl !== -1) return off + nl + 1;
    off += n;
  }
  return limit;
}

export function byteAt(fd: number, pos: number): number {
  const b = Buffer.allocUnsafe(1);
  return readSync(fd, b, 0, 1, pos) === 1 ? (b[0] ?? -1) : -1;
}
