/**
 * fail2ban's `seekToTime` over a file descriptor: bisection over byte offsets for the first line
 * whose date is ≥ the time wanted.
 */
import { readSync } from 'node:fs';
import { stripLineEnd, type Decoder } from '../system/lines.js';
import { nextLineStart } from './fileProbe.js';

export type DateOf = (line: string) => number | null;

/**
 * The first line start in [from, size) whose date is ≥ `time` (or `size`); of each probe, up to 5
 * lines (each read up to `cap` bytes) are tried for a date, and a probe without one counts as
 * "late enough" (so at worst more is read, never less). Never before `from`; `from` itself when
 * the lines there are recent.
 */
export function seekLineAtTime(fd: number, from: number, size: number, cap: number, decode: Decoder, time: number, dateOf: DateOf): number {
  // fail2ban probes the current position first: when the lines there are recent (or undated),
  // nothing is skipped — a log need not be in time order (lines written while the server was
  // down may sit before an older one).
  if (from >= size) return from;
  const first = probeDate(fd, from, size, cap, decode, dateOf);
  if (first.date === null || first.date >= time) return from;
  let lo = first.next;
  let hi = size;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    let s = mid <= lo ? lo : nextLineStart(fd, mid - 1, hi);
    if (s >= hi) s = lo;
    const probe = probeDate(fd, s, hi, cap, decode, dateOf);
    if (probe.date === null || probe.date >= time) hi = s;
    else lo = probe.next;
  }
  return lo;
}

function probeDate(fd: number, start: number, limit: number, cap: number, decode: Decoder, dateOf: DateOf): { date: number | null; next: number } {
  let s = start;
  for (let i = 0; i < 5 && s < limit; i++) {
    const end = nextLineStart(fd, s, limit);
    const len = Math.min(end - s, cap);
    const buf = Buffer.allocUnsafe(len);
    const n = readSync(fd, buf, 0, len, s);
    const date = dateOf(stripLineEnd(decode(buf.subarray(0, n))));
    if (date !== null) return { date, next: end };
    s = end;
  }
  return { date: null, next: s };
}
