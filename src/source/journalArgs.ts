/**
 * The systemd journal as `journalctl` shows it, pure: the argument vector that selects the same
 * journal files, matches and start position as fail2ban's `FilterSystemd` gives sd-journal, and
 * the log line fail2ban's `formatJournalEntry` builds from an entry that `journalctl -o json`
 * prints (runtime spec §5.4).
 *
 * An entry's field arrives from `journalctl -o json` as a JSON string (printable UTF-8), an array
 * of byte numbers (anything else: invalid UTF-8, control characters), `null` (only for fields over
 * 4096 bytes without `--all`, which is why `--all` is always passed), or, for a field that occurs
 * more than once in the entry, an array of such values. Python's reader (python3-systemd) turns
 * each value into `str` when it is valid UTF-8, `bytes` otherwise, `int` for the PID fields;
 * the functions below reproduce what fail2ban then does with those Python values.
 */
import { posix } from 'node:path';

import { PortcullisError } from '../shared/errors.js';

/** The `backend = systemd[…]` options. */
export interface JournalOptions {
  /** `journalpath`: a directory of journal files (`--directory`). */
  readonly journalpath?: string;
  /** `journalfiles`: globs separated by spaces, commas or newlines (`--file`, one per glob). */
  readonly journalfiles?: string;
  /** `journalflags`: sd_journal_open flags as an integer. */
  readonly journalflags?: number;
  /** `namespace`: a journal namespace (`--namespace`). */
  readonly namespace?: string;
}

/** sd_journal_open flags (sd-journal.h). */
export const JOURNAL_FLAG = {
  LOCAL_ONLY: 1,
  RUNTIME_ONLY: 2,
  SYSTEM: 4,
  CURRENT_USER: 8,
  OS_ROOT: 16,
  ALL_NAMESPACES: 32,
  INCLUDE_DEFAULT_NAMESPACE: 64,
} as const;

/** fail2ban 1.0.2's default flags when neither a path nor files are given (`F2B_SYSTEMD_DEFAULT_FLAGS`). */
export const DEFAULT_JOURNAL_FLAGS = JOURNAL_FLAG.SYSTEM;

/** A `journalmatch` token that sd-journal would refuse (not `FIELD=value`). */
export class JournalMatchError extends PortcullisError {
  constructor(readonly token: string, readonly matchLine: string) {
    super('E_JOURNAL_MATCH', `Error adding journal match for: '${matchLine}' (invalid match "${token}": expected FIELD=value)`);
  }
}

/** The journal files' selection: `journalctl` options and what could not be expressed with them. */
export interface JournalSelection {
  readonly args: readonly string[];
  /** Human-readable notes on flags journalctl has no option for (empty when everything mapped). */
  readonly unmapped: readonly string[];
}

/** fail2ban's `splitwords`: split on spaces, commas and newlines, drop empty words. */
export function splitWords(text: string): string[] {
  return text.split(/[ ,\n]+/).map((w) => w.trim()).filter((w) => w !== '');
}

/**
 * The options that choose the journal files, as fail2ban's `_getJournalArgs` chooses them:
 * `journalfiles` (globs; relative ones made absolute against `cwd`, because journalctl cannot follow
 * a file named by a relative path), else `journalpath`, else the flags (default `defaultFlags`
 * only when neither files nor path are given), and `namespace`.
 */
export function journalSelectionArgs(opts: JournalOptions, cwd = '/', defaultFlags: number = DEFAULT_JOURNAL_FLAGS): JournalSelection {
  const args: string[] = [];
  const unmapped: string[] = [];
  const files = opts.journalfiles === undefined ? [] : splitWords(opts.journalfiles);
  const path = opts.journalpath !== undefined && opts.journalpath !== '' ? opts.journalpath : undefined;
  let flags = opts.journalflags;
  if (flags === undefined && files.length === 0 && path === undefined) flags = defaultFlags;
  const mode: 'files' | 'path' | 'system' = files.length > 0 ? 'files' : path !== undefined ? 'path' : 'system';
  if (mode === 'files') {
    for (const f of files) args.push(`--file=${posix.resolve(cwd, f)}`);
    if (path !== undefined) unmapped.push('journalpath is ignored when journalfiles is set');
  } else if (mode === 'path') {
    args.push(`--directory=${path ?? ''}`);
  }
  if (flags !== undefined) {
    const f = flags;
    const has = (bit: number): boolean => (f & bit) !== 0;
    if (mode === 'system' && !has(JOURNAL_FLAG.LOCAL_ONLY)) args.push('--merge');
    if (mode !== 'files') {
      if (has(JOURNAL_FLAG.SYSTEM)) args.push('--system');
      if (has(JOURNAL_FLAG.CURRENT_USER)) args.push('--user');
    } else if (has(JOURNAL_FLAG.SYSTEM) || has(JOURNAL_FLAG.CURRENT_USER)) {
      unmapped.push('SYSTEM/CURRENT_USER flags do not apply to journalfiles');
    }
    if (has(JOURNAL_FLAG.RUNTIME_ONLY)) unmapped.push('RUNTIME_ONLY (2) has no journalctl option');
    if (has(JOURNAL_FLAG.OS_ROOT)) unmapped.push('OS_ROOT (16) has no journalctl option');
  }
  let ns = opts.namespace;
  if (flags !== undefined && (flags & JOURNAL_FLAG.ALL_NAMESPACES) !== 0 && ns === undefined) ns = '*';
  if (ns !== undefined && ns !== '') {
    const plus = flags !== undefined && (flags & JOURNAL_FLAG.INCLUDE_DEFAULT_NAMESPACE) !== 0 && ns !== '*' && !ns.startsWith('+');
    args.push(`--namespace=${plus ? '+' : ''}${ns}`);
  }
  return { args, unmapped };
}

const MATCH_TOKEN = /^[A-Z_][A-Z0-9_]{0,63}=/s;

/**
 * The match groups of a jail's `journalmatch` lines: every line is split at `+` into groups, all
 * groups of all lines are alternatives (OR); the matches of a group are combined as sd-journal
 * does (same field OR, different fields AND). Empty groups are dropped (a no-op disjunction).
 * Throws `JournalMatchError` for a token that is not `FIELD=value` (sd-journal's refusal; it also
 * keeps journalctl from reading a token as an option or a path).
 */
export function journalMatchGroups(journalmatch: ReadonlyArray<readonly string[]>): string[][] {
  const groups: string[][] = [];
  for (const line of journalmatch) {
    let group: string[] = [];
    const flush = (): void => {
      if (group.length > 0) groups.push(group);
      group = [];
    };
    for (const token of line) {
      if (token === '+') flush();
      else if (!MATCH_TOKEN.test(token)) throw new JournalMatchError(token, line.join(' '));
      else group.push(token);
    }
    flush();
  }
  return groups;
}

/** journalctl's positional match arguments for the groups: `A=1 B=2 + C=3`. */
export function journalMatchArgs(groups: ReadonlyArray<readonly string[]>): string[] {
  const args: string[] = [];
  for (const g of groups) {
    if (args.length > 0) args.push('+');
    args.push(...g);
  }
  return args;
}

/** fail2ban's status text for the matches (`Journal matches`). */
export function journalMatchText(groups: ReadonlyArray<readonly string[]>): string {
  return groups.map((g) => g.join(' ')).join(' + ');
}

/**
 * Where reading starts: after a known cursor, or at a time (Unix seconds). With `after`, only
 * entries later than the microsecond of `time` are read: fail2ban seeks to the time, steps back
 * one entry and reads on from there (`seek_realtime`, `get_previous`, `get_next`), which skips
 * every entry at exactly that time — such as the last entry read before a restart.
 */
export type JournalStart =
  | { readonly kind: 'cursor'; readonly cursor: string }
  | { readonly kind: 'since'; readonly time: number; readonly after?: boolean };

/** A stored journal position (the DB's `systemd-journal` row plus portcullis' cursor). */
export interface StoredJournalPosition {
  readonly cursor?: string;
  readonly time: number;
}

/**
 * fail2ban's start: `max(stored time, now - findtime)`. The stored cursor is used instead of the
 * time when it is not older than that (so the last entry already seen is not read twice).
 */
export function journalStart(stored: StoredJournalPosition | undefined, nowSec: number, findtime: number): JournalStart {
  const floor = nowSec - Math.trunc(findtime);
  const time = Math.max(stored?.time ?? 0, floor);
  if (stored?.cursor !== undefined && stored.cursor !== '' && stored.time >= floor) return { kind: 'cursor', cursor: stored.cursor };
  return { kind: 'since', time };
}

/** `--since=@<seconds>` with microseconds (journalctl parses fractional seconds; `--since` is inclusive). */
function sinceArg(time: number, after: boolean): string {
  const us = Math.max(0, Math.floor(time * 1e6) + (after ? 1 : 0));
  const s = Math.floor(us / 1e6);
  const frac = String(us % 1e6).padStart(6, '0');
  return `--since=@${s}.${frac}`;
}

const COMMON = ['--output=json', '--all', '--no-pager', '--quiet'] as const;

/** The arguments of the long-running reader: JSON, every field whole, following, from `start`. */
export function journalFollowArgs(selection: JournalSelection, groups: ReadonlyArray<readonly string[]>, start: JournalStart): string[] {
  const from = start.kind === 'cursor' ? `--after-cursor=${start.cursor}` : sinceArg(start.time, start.after === true);
  return [...selection.args, ...COMMON, '--follow', '--no-tail', from, '--', ...journalMatchArgs(groups)];
}

/** The arguments of the start-up probe: the last matching entry (or nothing for an empty journal). */
export function journalLastEntryArgs(selection: JournalSelection, groups: ReadonlyArray<readonly string[]>): string[] {
  return [...selection.args, ...COMMON, '--lines=1', '--', ...journalMatchArgs(groups)];
}

// ---------------------------------------------------------------------------------------------
// Entry → line

/** One value of a field: text that is valid UTF-8, or raw bytes (which may or may not be). */
type Raw = string | Uint8Array;

function isByteArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255);
}

function toRaw(v: unknown): Raw | undefined {
  if (typeof v === 'string') return v;
  if (isByteArray(v)) return Uint8Array.from(v);
  return undefined;
}

/** The values of a field (one unless repeated); undefined when absent or not in journalctl's shape. */
export function fieldValues(entry: Readonly<Record<string, unknown>>, name: string): Raw[] | undefined {
  const v = entry[name];
  if (v === undefined || v === null) return undefined;
  const single = toRaw(v);
  if (single !== undefined) return [single];
  if (!Array.isArray(v)) return undefined;
  const out: Raw[] = [];
  for (const item of v as unknown[]) {
    const r = toRaw(item);
    if (r !== undefined) out.push(r);
  }
  return out.length > 0 ? out : undefined;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');

/** Python `bytes.decode('utf-8')` or undefined when it would raise. */
function strictUtf8(b: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(b);
  } catch {
    return undefined;
  }
}

/** How bytes that are not UTF-8 become text (fail2ban: `decode(logencoding, 'replace')`). */
export type BytesDecoder = (bytes: Uint8Array) => string;
export const UTF8_REPLACE: BytesDecoder = (b) => LENIENT_UTF8.decode(b);

/** A text field value as fail2ban's `uni_decode` leaves it. */
function text(raw: Raw, decode: BytesDecoder): string {
  if (typeof raw === 'string') return raw;
  return strictUtf8(raw) ?? decode(raw);
}

function rawLength(raw: Raw): number {
  return raw.length;
}

/** The Latin-1 view of bytes (for parsing ASCII numbers out of them). */
function latin1(raw: Raw): string {
  return typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
}

const PY_WS = '[ \\t\\n\\v\\f\\r]*';
const PY_INT10 = new RegExp(`^${PY_WS}([+-]?)(\\d(?:_?\\d)*)${PY_WS}$`);
const PY_INT0 = new RegExp(`^${PY_WS}([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[oO]((?:_?[0-7])+)|0[bB]((?:_?[01])+)|(0(?:_?0)*)|([1-9](?:_?\\d)*))${PY_WS}$`);

/** Python `int(bytes)` (base 10) or undefined where it raises ValueError. */
function pyInt10(raw: Raw): bigint | undefined {
  const m = PY_INT10.exec(latin1(raw));
  if (!m) return undefined;
  const n = BigInt((m[2] ?? '').replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}

/** Python `int(bytes, 0)` or undefined where it raises ValueError. */
function pyInt0(raw: Raw): bigint | undefined {
  const m = PY_INT0.exec(latin1(raw));
  if (!m) return undefined;
  let n: bigint;
  if (m[2] !== undefined) n = BigInt('0x' + m[2].replaceAll('_', ''));
  else if (m[3] !== undefined) n = BigInt('0o' + m[3].replaceAll('_', ''));
  else if (m[4] !== undefined) n = BigInt('0b' + m[4].replaceAll('_', ''));
  else if (m[5] !== undefined) n = 0n;
  else n = BigInt((m[6] ?? '').replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}

/** Python `repr(bytes)`. */
export function pyBytesRepr(b: Uint8Array): string {
  const hasSingle = b.includes(0x27);
  const quote = hasSingle && !b.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x27 && quote === "'") out += "\\'";
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

/** A PID field after python3-systemd's `int` converter: the int, or the bytes it could not convert. */
type PyPid = bigint | Uint8Array;

function pidValue(raw: Raw): PyPid {
  return pyInt10(raw) ?? (typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw);
}

function pidTruthy(v: PyPid): boolean {
  return typeof v === 'bigint' ? v !== 0n : v.length > 0;
}

function pidItemRepr(v: PyPid): string {
  return typeof v === 'bigint' ? String(v) : pyBytesRepr(v);
}

/** fail2ban's `[%i]` / `[int(v, 0)]` / `[%s]` cascade. */
function pidText(values: readonly PyPid[]): string {
  if (values.length !== 1) return `[[${values.map(pidItemRepr).join(', ')}]]`;
  const v = values[0] as PyPid;
  if (typeof v === 'bigint') return `[${v}]`;
  const n = pyInt0(v);
  return n !== undefined ? `[${n}]` : `[${pyBytesRepr(v)}]`;
}

/** The PID values of a field, or undefined when absent or falsy in Python's sense. */
function pidField(entry: Readonly<Record<string, unknown>>, name: string): PyPid[] | undefined {
  const values = fieldValues(entry, name);
  if (values === undefined) return undefined;
  const pids = values.map(pidValue);
  if (pids.length === 1 && !pidTruthy(pids[0] as PyPid)) return undefined;
  return pids;
}

/** A text field's first value as text, or undefined when absent or empty (Python falsy). */
function textField(entry: Readonly<Record<string, unknown>>, name: string, decode: BytesDecoder): string | undefined {
  const first = fieldValues(entry, name)?.[0];
  if (first === undefined || rawLength(first) === 0) return undefined;
  return text(first, decode);
}

/** A microsecond field as Python's `int(s)` reads it. */
function microseconds(entry: Readonly<Record<string, unknown>>, name: string): bigint | undefined {
  const first = fieldValues(entry, name)?.[0];
  return first === undefined ? undefined : pyInt10(first);
}

/** `'%12.6f' % timedelta(microseconds=us).total_seconds()`. */
function monotonicText(us: bigint): string {
  const neg = us < 0n;
  const a = neg ? -us : us;
  const s = `${neg ? '-' : ''}${a / 1000000n}.${String(a % 1000000n).padStart(6, '0')}`;
  return s.padStart(12, ' ');
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * `datetime.fromtimestamp(us / 1e6, <fixed local offset>).isoformat()`: microseconds only when
 * non-zero, the offset as `+HH:MM` (`:SS` when it has seconds).
 */
export function journalIsoDate(us: bigint, utcOffsetSeconds: number): string {
  const local = us + BigInt(Math.trunc(utcOffsetSeconds)) * 1000000n;
  let secs = local / 1000000n;
  let micro = local % 1000000n;
  if (micro < 0n) {
    micro += 1000000n;
    secs -= 1n;
  }
  const d = new Date(Number(secs) * 1000);
  let iso = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (micro !== 0n) iso += '.' + String(micro).padStart(6, '0');
  const off = Math.abs(Math.trunc(utcOffsetSeconds));
  iso += `${utcOffsetSeconds < 0 ? '-' : '+'}${pad(Math.floor(off / 3600))}:${pad(Math.floor((off % 3600) / 60))}`;
  if (off % 60 !== 0) iso += `:${pad(off % 60)}`;
  return iso;
}

/** `time.mktime(date.timetuple()) + date.microsecond / 1e6` for the instant (see module notes). */
function epochSeconds(us: bigint): number {
  let secs = us / 1000000n;
  let micro = us % 1000000n;
  if (micro < 0n) {
    micro += 1000000n;
    secs -= 1n;
  }
  return Number(secs) + Number(micro) / 1e6;
}

/** Python's datetime range (years 1–9999) in microseconds. */
const MIN_US = -62135596800000000n;
const MAX_US = 253402300799999999n;

export interface JournalEntryOptions {
  /** The local UTC offset (seconds east) fixed at start, as python3-systemd captures it at import. */
  readonly utcOffsetSeconds: number;
  /** Bytes that are not UTF-8 → text (fail2ban: `logencoding` with 'replace'); default UTF-8 with U+FFFD. */
  readonly decode?: BytesDecoder;
}

/** An entry made into what fail2ban's filter receives. */
export interface JournalLine {
  /** The syslog-like line, newlines written as `\n`. */
  readonly line: string;
  /** ISO date of the entry (`_SOURCE_REALTIME_TIMESTAMP` or `__REALTIME_TIMESTAMP`) in the local offset. */
  readonly isoDate: string;
  /** The entry time, Unix seconds (float). */
  readonly time: number;
  /** `__REALTIME_TIMESTAMP` in microseconds (journal order). */
  readonly realtimeUs: bigint;
  /** `__CURSOR`, when the entry has one. */
  readonly cursor: string | undefined;
}

/**
 * fail2ban's `formatJournalEntry` + `getJrnEntTime` for one entry object as `journalctl -o json`
 * prints it. Undefined for an entry without a usable `__REALTIME_TIMESTAMP`.
 */
export function formatJournalEntry(entry: Readonly<Record<string, unknown>>, opts: JournalEntryOptions): JournalLine | undefined {
  const decode = opts.decode ?? UTF8_REPLACE;
  const realtime = microseconds(entry, '__REALTIME_TIMESTAMP');
  if (realtime === undefined || realtime < MIN_US || realtime > MAX_US) return undefined;
  let dateUs = microseconds(entry, '_SOURCE_REALTIME_TIMESTAMP') ?? realtime;
  if (dateUs < MIN_US || dateUs > MAX_US) dateUs = realtime;

  const elements: string[] = [];
  const host = textField(entry, '_HOSTNAME', decode);
  if (host !== undefined) elements.push(host);
  const ident = textField(entry, 'SYSLOG_IDENTIFIER', decode) ?? textField(entry, '_COMM', decode);
  if (ident !== undefined) {
    const pid = pidField(entry, 'SYSLOG_PID') ?? pidField(entry, '_PID');
    const tag = ident + (pid !== undefined ? pidText(pid) : '') + ':';
    elements.push(tag);
    if (tag === 'kernel:') {
      const mono = microseconds(entry, '_SOURCE_MONOTONIC_TIMESTAMP') ?? microseconds(entry, '__MONOTONIC_TIMESTAMP') ?? 0n;
      elements.push(`[${monotonicText(mono)}]`);
    }
  }
  const message = fieldValues(entry, 'MESSAGE');
  elements.push(message === undefined ? '' : message.map((m) => text(m, decode)).join(' '));
  const cursorValue = entry.__CURSOR;
  return {
    line: elements.join(' ').replaceAll('\n', '\\n'),
    isoDate: journalIsoDate(dateUs, opts.utcOffsetSeconds),
    time: epochSeconds(dateUs),
    realtimeUs: realtime,
    cursor: typeof cursorValue === 'string' ? cursorValue : undefined,
  };
}
