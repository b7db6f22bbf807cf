/**
 * One followed log file, read the way fail2ban's `FileContainer` reads it: complete lines only
 * (an unterminated last line waits for the next read), decoded with the jail's `logencoding`,
 * rotation detected by size, inode and the SHA-1 of the first line (`firstlinemd5` in the DB).
 *
 * Better than fail2ban: the descriptor stays open between reads. When the path gets a new file
 * (rename + create, delete + create), the old descriptor is kept as a *retired* cursor and read to
 * its end before the new file, so lines written just before the rotation are not lost; it is
 * closed once the new file has content (the writer has switched) or after `retireAfterMs`.
 * A truncation (copytruncate) looks for the copy next to the file (same first line, big enough)
 * and reads the unread tail from there before restarting at 0. Between the 30 s hash checks,
 * every read also compares the first bytes of the first line (≤ 512) and the byte before the
 * position ("\n"): two tiny preads that notice a file truncated and regrown past the position
 * before the read (fail2ban misses that for up to 30 s and reads from the middle of a line).
 *
 * I/O: small synchronous `pread`s (at most `maxBytes` per `readLines`, 1 MiB by default), so one
 * call is short and the caller decides when to go on (FileSource yields with `setImmediate`).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PortcullisError } from '../shared/errors.js';
import { pyReprString } from '../shared/pyvalue.js';
import type { Clock } from '../system/clock.js';
import { codecFamily, decoderFor, stripLineEnd, type Decoder } from '../system/lines.js';
import { LEVEL, NULL_LOG, type ServerLog } from '../system/log.js';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
export const DEFAULT_READ_BYTES = 1 << 20;
const HASH_CHECK_MS = 30_000;
const RETIRE_AFTER_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const SCAN = 64 * 1024;
const PREFIX = 512;
const FILTER_LOGGER = 'fail2ban.filter';

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  EMFILE: 'Too many open files',
};

/** A log file that cannot be opened; `message` is Python's `OSError` text (`[Errno 2] No such file or directory: '/x'`). */
export class LogFileError extends PortcullisError {
  readonly path: string;
  readonly errno: number;

  constructor(path: string, code: string, options?: { cause?: unknown }) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[code] ?? 0;
    super(code, `[Errno ${errno}] ${STRERROR[code] ?? code}: ${pyReprString(path)}`, options);
    this.path = path;
    this.errno = errno;
  }
}

/** A log encoding fail2ban would reject (`codecs.lookup` raising LookupError). */
export class LogEncodingError extends PortcullisError {
  constructor(encoding: string) {
    super('LOOKUP_ERROR', `unknown encoding: ${encoding}`);
  }
}

function asLogFileError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? new LogFileError(path, code, { cause: err }) : (err as Error);
}

export interface FileContainerOptions {
  /** The jail's `logencoding`; `auto` = UTF-8 here (fail2ban: the locale's encoding). */
  readonly encoding?: string;
  /** Start at the end (`logpath = … tail`): in operation at once. */
  readonly tail?: boolean;
  readonly log?: ServerLog;
  readonly clock?: Clock;
  /** Longer lines are cut at this many bytes (default 64 KiB). */
  readonly maxLineBytes?: number;
  /** How long an old file of a rotation is kept open while the new one stays empty (default 60 s). */
  readonly retireAfterMs?: number;
}

export interface ReadResult {
  /** Complete lines, without their line ends, in file order. */
  readonly lines: string[];
  /** True when everything written so far has been read (an unterminated last line does not count). */
  readonly atEof: boolean;
  /** The path does not exist at the moment (the open descriptor is still read). */
  readonly missing: boolean;
}

export interface ContainerCounters {
  lines: number;
  bytes: number;
  rotations: number;
  decodeErrors: number;
  longLines: number;
}

/** Reading state of one descriptor. */
interface Cursor {
  readonly fd: number;
  readonly dev: bigint;
  readonly ino: bigint;
  /** Start of the first line not delivered yet (what is saved as the position). */
  pos: number;
  /** The next byte to read; bytes in [pos, readPos) are held in `carry` (at most the cap). */
  readPos: number;
  carry: Buffer[];
  carryLen: number;
  /** The held line passed the cap: its further bytes are dropped. */
  long: boolean;
  /** pos is known to follow a "\n" (checked to notice a rewritten file). */
  boundary: boolean;
  /** Retired cursors: when it was retired, and whether to close it as soon as it is drained (a copy). */
  since: number;
  final: boolean;
}

type Validator = (bytes: Uint8Array) => boolean;

function validatorFor(encoding: string): Validator | undefined {
  const family = codecFamily(encoding);
  if (family === 'latin-1') return undefined;
  if (family === 'ascii') return (b) => b.every((c) => c < 0x80);
  let decodeStrict: (b: Uint8Array) => string;
  try {
    const td = new TextDecoder(family ?? encoding.toLowerCase().replace(/_/g, '-'), { fatal: true, ignoreBOM: true });
    decodeStrict = (b) => td.decode(b);
  } catch {
    return undefined;
  }
  return (b) => {
    try {
      decodeStrict(b);
      return true;
    } catch {
      return false;
    }
  };
}

/** Python's `repr(bytes)`. */
function pyReprBytes(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let s = 'b' + quote;
  for (const c of b) {
    if (c === 0x5c || c === quote.charCodeAt(0)) s += '\\' + String.fromCharCode(c);
    else if (c === 9) s += '\\t';
    else if (c === 10) s += '\\n';
    else if (c === 13) s += '\\r';
    else if (c < 0x20 || c >= 0x7f) s += '\\x' + c.toString(16).padStart(2, '0');
    else s += String.fromCharCode(c);
  }
  return s + quote;
}

function fstatBig(fd: number): BigIntStats {
  return fstatSync(fd, { bigint: true });
}

/** SHA-1 hex of the first line with its line end, '' if the file is empty or the line unfinished (fail2ban's rule: a final "\r" counts as an end). */
export function firstLineHash(fd: number): string {
  return firstLine(fd).hash;
}

/** The hash, and the first bytes of the line (compared on every read: a cheap check between hash checks). */
function firstLine(fd: number): { hash: string; prefix: Buffer } {
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

function prefixMatches(fd: number, prefix: Buffer): boolean {
  const b = Buffer.allocUnsafe(prefix.length);
  return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(prefix);
}

/** The position after the first "\n" at or after `from`, or `limit` if there is none before it. */
function nextLineStart(fd: number, from: number, limit: number): number {
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

function byteAt(fd: number, pos: number): number {
  const b = Buffer.allocUnsafe(1);
  return readSync(fd, b, 0, 1, pos) === 1 ? (b[0] ?? -1) : -1;
}

export class FileContainer {
  readonly path: string;
  readonly counters: ContainerCounters = { lines: 0, bytes: 0, rotations: 0, decodeErrors: 0, longLines: 0 };
  /** fail2ban's `inOperation`: false until a read with content reached the end (true at once with `tail`). */
  inOperation: boolean;
  private main: Cursor;
  /** Old files of rotations (and copies of truncated ones), oldest first: read before `main`. */
  private retired: Cursor[] = [];
  private hash: string;
  private prefix: Buffer;
  private hashNextCheck: number;
  private readonly encodingName: string;
  private readonly decode: Decoder;
  private readonly valid: Validator | undefined;
  private readonly utf8: boolean;
  private readonly log: ServerLog;
  private readonly clock: Clock;
  private readonly cap: number;
  private readonly retireAfterMs: number;
  private lastDecodeWarn = -Infinity;
  private lastLongWarn = -Infinity;

  /** Opens `path` (throws `LogFileError` with Python's text if it cannot), hashes its first line; `tail` → position at the end. */
  constructor(path: string, options: FileContainerOptions = {}) {
    this.path = path;
    const enc = options.encoding ?? 'auto';
    this.encodingName = enc.toLowerCase() === 'auto' ? 'UTF-8' : enc;
    const decode = decoderFor(this.encodingName);
    if (!decode) throw new LogEncodingError(enc);
    this.decode = decode;
    this.valid = validatorFor(this.encodingName);
    this.utf8 = codecFamily(this.encodingName) === 'utf-8';
    this.log = options.log ?? NULL_LOG;
    this.clock = options.clock ?? { nowMs: () => Date.now() };
    this.cap = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.retireAfterMs = options.retireAfterMs ?? RETIRE_AFTER_MS;
    this.main = this.openCursor(path);
    ({ hash: this.hash, prefix: this.prefix } = firstLine(this.main.fd));
    this.hashNextCheck = this.clock.nowMs() + HASH_CHECK_MS;
    const tail = options.tail ?? false;
    if (tail) this.moveToLastLineEnd();
    this.inOperation = tail;
  }

  private openCursor(path: string): Cursor {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw asLogFileError(path, err);
    }
    const st = fstatBig(fd);
    if (st.isDirectory()) {
      closeSync(fd);
      throw new LogFileError(path, 'EISDIR');
    }
    return { fd, dev: st.dev, ino: st.ino, pos: 0, readPos: 0, carry: [], carryLen: 0, long: false, boundary: true, since: 0, final: false };
  }

  /** Tail mode: after the last "\n" (so a line being written is read whole); at the end if none is near. */
  private moveToLastLineEnd(): void {
    const size = this.getFileSize();
    const from = Math.max(0, size - this.cap);
    const buf = Buffer.allocUnsafe(size - from);
    const n = readSync(this.main.fd, buf, 0, buf.length, from);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    const pos = nl === -1 ? size : from + nl + 1;
    this.setCursorPos(this.main, pos);
    this.main.boundary = nl !== -1 || size === 0;
  }

  /** SHA-1 hex of the first line (with its line end); '' if empty or incomplete. */
  getHash(): string {
    return this.hash;
  }

  /** The saved position: the start of the first line not delivered yet. */
  getPos(): number {
    return this.main.pos;
  }

  /** Restores a saved position (the next read checks it against size, inode and the byte before it). */
  setPos(pos: number): void {
    this.setCursorPos(this.main, pos);
  }

  private setCursorPos(cur: Cursor, pos: number): void {
    cur.pos = cur.readPos = pos;
    cur.carry = [];
    cur.carryLen = 0;
    cur.long = false;
    cur.boundary = true;
  }

  getFileSize(): number {
    return Number(fstatBig(this.main.fd).size);
  }

  /** Device and inode of the current file. */
  identity(): { readonly dev: bigint; readonly ino: bigint } {
    return { dev: this.main.dev, ino: this.main.ino };
  }

  /** Keys (`dev:ino`) of every open descriptor (current and retired), for watchers. */
  openKeys(): string[] {
    return [...this.retired, this.main].map((c) => `${c.dev}:${c.ino}`);
  }

  /** Closes every descriptor. */
  close(): void {
    for (const c of [...this.retired, this.main]) {
      try {
        closeSync(c.fd);
      } catch {
        // already closed
      }
    }
    this.retired = [];
  }

  /**
   * Reads new complete lines, at most `maxBytes` bytes of file: old files of a rotation first,
   * then the current file (rotation checks first). Sets `inOperation` when a read with content
   * reaches the end.
   */
  readLines(maxBytes = DEFAULT_READ_BYTES): ReadResult {
    const out: string[] = [];
    const missing = this.checkPath();
    const mainSize = Number(fstatBig(this.main.fd).size);
    let budget = maxBytes;
    const retiredDone = this.drainRetired(mainSize, out, () => budget, (n) => (budget -= n));
    if (!retiredDone) return { lines: out, atEof: false, missing };
    const size = this.checkMain(mainSize, out);
    const hadContent = size > this.main.pos;
    while (budget > 0 && this.main.readPos < size) budget -= this.readCursor(this.main, size, budget, out);
    const atEof = this.main.readPos >= size;
    if (atEof && (hadContent || out.length > 0)) this.inOperation = true;
    return { lines: out, atEof, missing };
  }

  /** Whether the path exists; a different file there retires the current one. */
  private checkPath(): boolean {
    let st: BigIntStats | undefined;
    try {
      st = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) return true;
    if (st.ino === this.main.ino && st.dev === this.main.dev) return false;
    let next: Cursor;
    try {
      next = this.openCursor(this.path);
    } catch {
      return true;
    }
    const old = this.main;
    const { hash: newHash, prefix } = firstLine(next.fd);
    this.rotated([Number(fstatBig(next.fd).size), old.pos, next.ino, old.ino, newHash, this.hash]);
    old.since = this.clock.nowMs();
    this.retired.push(old);
    this.main = next;
    this.hash = newHash;
    this.prefix = prefix;
    this.hashNextCheck = this.clock.nowMs() + HASH_CHECK_MS;
    return false;
  }

  private rotated(reason: readonly [number, number, bigint, bigint, string, string]): void {
    this.counters.rotations++;
    const [size, pos, ino, oldIno, hash, oldHash] = reason;
    this.log.log(FILTER_LOGGER, LEVEL.MSG,
      `Log rotation detected for ${this.path}, reason: (${size}, ${pos}, ${ino}, ${oldIno}, ${pyReprString(hash)}, ${pyReprString(oldHash)})`);
  }

  /**
   * Reads retired cursors in order; true when all are at their end. One at its end is closed
   * when the current file had content before it was drained (the writer has switched, so nothing
   * more comes), when it is a copy, or when it is old.
   */
  private drainRetired(mainSize: number, out: string[], budget: () => number, spend: (n: number) => void): boolean {
    while (this.retired.length > 0) {
      const cur = this.retired[0] as Cursor;
      let size: number;
      try {
        size = Number(fstatBig(cur.fd).size);
      } catch {
        size = cur.readPos;
      }
      if (size < cur.readPos) size = cur.readPos;
      while (budget() > 0 && cur.readPos < size) spend(this.readCursor(cur, size, budget(), out));
      if (cur.readPos < size) return false;
      const stale = this.clock.nowMs() - cur.since >= this.retireAfterMs;
      if (!(cur.final || mainSize > 0 || stale)) return true;
      this.flushPartial(cur, out);
      closeSync(cur.fd);
      this.retired.shift();
    }
    return true;
  }

  /** A retired file's unterminated last line is delivered when it is closed: nothing will end it any more. */
  private flushPartial(cur: Cursor, out: string[]): void {
    if (cur.carryLen === 0 && !cur.long) return;
    this.emitHeld(cur, Buffer.alloc(0), out);
  }

  /** Truncation, a rewritten file under a known position, a changed first line → back to 0. Returns the size to read to. */
  private checkMain(size: number, out: string[]): number {
    const cur = this.main;
    const truncated = size < cur.readPos;
    const boundaryLost = !truncated && cur.pos > 0 && cur.boundary && byteAt(cur.fd, cur.pos - 1) !== 10;
    const prefixChanged = !truncated && this.hash !== '' && !prefixMatches(cur.fd, this.prefix);
    const now = this.clock.nowMs();
    let newHash = this.hash;
    if (truncated || boundaryLost || prefixChanged || this.hash === '' || now > this.hashNextCheck) {
      const first = firstLine(cur.fd);
      newHash = first.hash;
      this.prefix = first.prefix;
      if (newHash !== '') this.hashNextCheck = now + HASH_CHECK_MS;
    }
    const changed = newHash !== this.hash && this.hash !== '';
    if (truncated || boundaryLost || changed) {
      this.rotated([size, cur.pos, cur.ino, cur.ino, newHash, this.hash]);
      this.recoverFromCopy(cur);
      this.setCursorPos(cur, 0);
      if (this.retired.length > 0) this.drainRetired(size, out, () => Infinity, () => {});
    }
    this.hash = newHash;
    return size;
  }

  /**
   * copytruncate: the unread tail of the truncated file is in the copy next to it (same first
   * line, at least as long as what was read). Reads it from there, as a retired cursor.
   */
  private recoverFromCopy(cur: Cursor): void {
    if (this.hash === '' || cur.readPos === 0) return;
    const dir = dirname(this.path);
    const base = basename(this.path);
    let best: { cursor: Cursor; mtime: bigint } | undefined;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name === base || !name.startsWith(base) || /\.(gz|bz2|xz|zst|lz4|Z)$/.test(name)) continue;
      const candidate = this.tryCopy(join(dir, name), cur);
      if (candidate && (!best || candidate.mtime > best.mtime)) {
        if (best) closeSync(best.cursor.fd);
        best = candidate;
      } else if (candidate) closeSync(candidate.cursor.fd);
    }
    if (!best) return;
    const copy = best.cursor;
    copy.pos = cur.pos;
    copy.readPos = cur.readPos;
    copy.carry = cur.carry;
    copy.carryLen = cur.carryLen;
    copy.long = cur.long;
    copy.final = true;
    this.retired.push(copy);
  }

  private tryCopy(path: string, cur: Cursor): { cursor: Cursor; mtime: bigint } | undefined {
    let c: Cursor;
    try {
      c = this.openCursor(path);
    } catch {
      return undefined;
    }
    const st = fstatBig(c.fd);
    if (st.isFile() && st.ino !== cur.ino && Number(st.size) >= cur.readPos && firstLineHash(c.fd) === this.hash) {
      return { cursor: c, mtime: st.mtimeNs };
    }
    closeSync(c.fd);
    return undefined;
  }

  /** One pread of at most `budget` bytes up to `size`; lines go to `out`. Returns the bytes read. */
  private readCursor(cur: Cursor, size: number, budget: number, out: string[]): number {
    const want = Math.min(budget, size - cur.readPos);
    const buf = Buffer.allocUnsafe(want);
    const n = readSync(cur.fd, buf, 0, want, cur.readPos);
    if (n <= 0) {
      cur.readPos = size; // shrank under us: the next read sees it
      return want;
    }
    this.counters.bytes += n;
    this.consume(cur, buf.subarray(0, n), out);
    return n;
  }

  private consume(cur: Cursor, data: Buffer, out: string[]): void {
    const base = cur.readPos;
    let start = 0;
    let nl = data.indexOf(10);
    if (nl !== -1 && (cur.carryLen > 0 || cur.long)) {
      this.emitHeld(cur, data.subarray(0, nl + 1), out);
      start = nl + 1;
      nl = data.indexOf(10, start);
    }
    let blockStart = start;
    for (; nl !== -1; nl = data.indexOf(10, start)) {
      if (nl - start > this.cap) {
        this.emitBlock(data.subarray(blockStart, start), out);
        this.emitLong(data.subarray(start, start + this.cap), out);
        blockStart = nl + 1;
      }
      start = nl + 1;
    }
    this.emitBlock(data.subarray(blockStart, start), out);
    cur.readPos = base + data.length;
    if (start > 0) {
      cur.pos = base + start;
      cur.boundary = true;
    }
    this.hold(cur, data.subarray(start));
  }

  /** Keeps the bytes of an unfinished line, at most the cap. */
  private hold(cur: Cursor, rest: Buffer): void {
    if (rest.length === 0 || cur.long) return;
    const room = this.cap - cur.carryLen;
    if (rest.length > room) {
      cur.carry.push(Buffer.from(rest.subarray(0, room)));
      cur.carryLen = this.cap;
      cur.long = true;
      return;
    }
    cur.carry.push(Buffer.from(rest));
    cur.carryLen += rest.length;
  }

  /** The held line completed by `tail` (which ends with "\n", or is empty when a retired file closes). */
  private emitHeld(cur: Cursor, tail: Buffer, out: string[]): void {
    const total = cur.carryLen + tail.length - (tail.length > 0 ? 1 : 0);
    if (cur.long || total > this.cap) {
      this.emitLong(Buffer.concat([...cur.carry, tail]).subarray(0, this.cap), out);
    } else {
      this.emitBlock(Buffer.concat([...cur.carry, tail]), out, true);
    }
    cur.carry = [];
    cur.carryLen = 0;
    cur.long = false;
  }

  /** A line cut at the cap (on a character boundary for UTF-8): counted, warned once per day. */
  private emitLong(bytes: Buffer, out: string[]): void {
    let end = bytes.length;
    if (this.utf8) {
      for (let k = 0; k < 3 && end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80; k++) end--;
    }
    this.counters.longLines++;
    const now = this.clock.nowMs();
    if (now - this.lastLongWarn >= DAY_MS) {
      this.lastLongWarn = now;
      this.log.log(FILTER_LOGGER, LEVEL.WARNING, `Line longer than ${this.cap} bytes in '${this.path}' cut at ${this.cap} bytes.`);
    }
    this.emitBlock(bytes.subarray(0, end), out, true);
  }

  /** Decodes whole lines at once; one line at a time only where invalid bytes are. `single`: one line, maybe without "\n". */
  private emitBlock(bytes: Buffer, out: string[], single = false): void {
    if (bytes.length === 0) return;
    const text = this.decode(bytes);
    if (this.valid && text.includes('\ufffd') && !this.valid(bytes)) {
      if (single) return this.pushLine(this.decodeBad(bytes), out);
      for (let s = 0, nl = bytes.indexOf(10); nl !== -1; s = nl + 1, nl = bytes.indexOf(10, s)) {
        const line = bytes.subarray(s, nl + 1);
        const t = this.decode(line);
        this.pushLine(t.includes('\ufffd') && !this.valid(line) ? this.decodeBad(line) : t, out);
      }
      return;
    }
    if (single) return this.pushLine(text, out);
    let s = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', s)) {
      this.pushLine(text.slice(s, nl + 1), out);
      s = nl + 1;
    }
  }

  private pushLine(text: string, out: string[]): void {
    out.push(stripLineEnd(text));
    this.counters.lines++;
  }

  /** fail2ban's decode_line: WARNING once per file per day, then level 7; replacement characters. */
  private decodeBad(bytes: Buffer): string {
    this.counters.decodeErrors++;
    const now = this.clock.nowMs();
    let level: number = LEVEL.TRACEDEBUG;
    if (now - this.lastDecodeWarn >= DAY_MS) {
      this.lastDecodeWarn = now;
      level = LEVEL.WARNING;
    }
    this.log.log(FILTER_LOGGER, level, `Error decoding line from '${this.path}' with '${this.encodingName}'.`);
    if (this.log.isEnabledFor(level)) {
      this.log.log(FILTER_LOGGER, level,
        'Consider setting logencoding to appropriate encoding for this jail. ' +
          `Continuing to process line ignoring invalid characters: ${pyReprBytes(bytes)}`);
    }
    return this.decode(bytes);
  }

  /**
   * fail2ban's `seekToTime`: moves the position (never backwards) to the first line whose date
   * is ≥ `time`, by bisection over byte offsets; of each probe, up to 5 lines are tried for a
   * date, and a probe without one counts as "late enough" (so at worst more is read, never less).
   * Only before the first read. Returns the new position.
   */
  seekToTime(time: number, dateOf: (line: string) => number | null): number {
    const cur = this.main;
    let lo = cur.pos;
    let hi = this.getFileSize();
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      let s = mid <= lo ? lo : nextLineStart(cur.fd, mid - 1, hi);
      if (s >= hi) s = lo;
      const probe = this.probeDate(s, hi, dateOf);
      if (probe.date === null || probe.date >= time) hi = s;
      else lo = probe.next;
    }
    if (lo !== cur.pos) this.setCursorPos(cur, lo);
    return lo;
  }

  private probeDate(start: number, limit: number, dateOf: (line: string) => number | null): { date: number | null; next: number } {
    let s = start;
    for (let i = 0; i < 5 && s < limit; i++) {
      const end = nextLineStart(this.main.fd, s, limit);
      const len = Math.min(end - s, this.cap);
      const buf = Buffer.allocUnsafe(len);
      const n = readSync(this.main.fd, buf, 0, len, s);
      const date = dateOf(stripLineEnd(this.decode(buf.subarray(0, n))));
      if (date !== null) return { date, next: end };
      s = end;
    }
    return { date: null, next: s };
  }
}
