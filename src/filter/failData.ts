/**
 * The data a filter attaches to a failure, as fail2ban's `fail` dict: the regex groups (None =
 * {@link NONE}), and the bookkeeping entries fail2ban adds (`matches`, `nofail-matches`, `users`,
 * `mlfpending`, `ip`). An insertion-ordered Map keeps Python's dict order (visible in
 * `fail2ban-regex -o row`).
 */
import type { IpAddress } from '../shared/ip.js';

/** A log line split around its date: `(before, dateText, after)`. */
export type TupleLine = readonly [string, string, string];

/** Python's `tuple` value of `tuple_*` groups (`(fail[x], v1, v2, …)`). */
export class GroupTuple {
  constructor(readonly items: readonly FailValue[]) {}
}

/** The value of one entry (`null` is Python's None). */
export type FailValue = string | null | number | IpAddress | GroupTuple | TupleLine[] | Set<string>;

export type FailData = Map<string, FailValue>;

/** Python truthiness of an entry. */
export function truthy(v: FailValue | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'number') return v !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Set) return v.size > 0;
  return true;
}

/** An entry as text, or null (`fail.get(k)` for group values). */
export function textOf(fail: FailData, key: string): string | null {
  const v = fail.get(key);
  return typeof v === 'string' ? v : null;
}

/** `fail.get(k, [])` for the line lists (`matches`, `nofail-matches`). */
export function linesOf(fail: FailData, key: string): TupleLine[] {
  const v = fail.get(key);
  return Array.isArray(v) ? v : [];
}

/** `Regex._tupleLinesBuf`: the lines without their dates, joined and ended by "\n". */
export function tupleLinesBuf(lines: readonly TupleLine[]): string {
  if (lines.length === 1) {
    const l = lines[0] as TupleLine;
    return l[0] + l[2] + '\n';
  }
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as TupleLine;
    out += (i > 0 ? '\n' : '') + l[0] + l[2];
  }
  return out + '\n';
}

/** The original line of a tuple (`"".join(tupleLine)`). */
export function joinTuple(l: TupleLine): string {
  return l[0] + l[1] + l[2];
}

function sameTuple(a: TupleLine, b: TupleLine): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/**
 * fail2ban-regex's multi-line rule: of the lines buffered before a line was processed (`before`;
 * its oldest one drops out when the buffer was full), those no longer buffered afterwards — a
 * match used them up, so they count as matched.
 */
export function releasedLines(before: readonly TupleLine[], maxlines: number, after: readonly TupleLine[]): TupleLine[] {
  const kept = before.length >= maxlines ? before.slice(1) : before;
  return kept.filter((l) => !after.some((a) => sameTuple(a, l)));
}
