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
 *
 * This file owns the container (positions, rotation and truncation checks, retired cursors); the
 * parts: fileCursor (descriptor state), fileLines (bytes → lines), fileProbe (first-line hash and
 * small preads), fileCopy (copytruncate), fileSeek (seekToTime), fileErrors.
 */
import { closeSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { pyReprString } from '../shared/pyvalue.js';
import type { Clock } from '../system/clock.js';
import { decoderFor, type Decoder } from '../system/lines.js';
import { LEVEL, NULL_LOG, type ServerLog } from '../system/log.js';
import { copyOfTruncated } from './fileCopy.js';
import { fstatBig, openCursor, setCursorPos, type Cursor } from './fileCursor.js';
import { LogEncodingError } from './fileErrors.js';
import { FILTER_LOGGER, LineReader, type ContainerCounters } from './fileLines.js';
import { byteAt, firstLine, prefixMatches } from './fileProbe.js';
import { seekLineAtTime } from './fileSeek.js';

export { LogEncodingError, LogFileError } from './fileErrors.js';
export { firstLineHash } from './fileProbe.js';
export type { ContainerCounters } from './fileLines.js';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
export const DEFAULT_READ_BYTES = 1 << 20;
const HASH_CHECK_MS = 30_000;
const RETIRE_AFTER_MS = 60_000;

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
  private readonly decode: Decoder;
  private readonly lines: LineReader;
  private readonly log: ServerLog;
  private readonly clock: Clock;
  private readonly cap: number;
  private readonly retireAfterMs: number;

  /** Opens `path` (throws `LogFileError` with Python's text if it cannot), hashes its first line; `tail` → position at the end. */
  constructor(path: string, options: FileContainerOptions = {}) {
    this.path = path;
    const enc = options.encoding ?? 'auto';
    const encodingName = enc.toLowerCase() === 'auto' ? 'UTF-8' : enc;
    const decode = decoderFor(encodingName);
    if (!decode) throw new LogEncodingError(enc);
    this.decode = decode;
    this.log = options.log ?? NULL_LOG;
    this.clock = options.clock ?? { nowMs: () => Date.now() };
    this.cap = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.retireAfterMs = options.retireAfterMs ?? RETIRE_AFTER_MS;
    this.lines = new LineReader({ path, encodingName, decode, log: this.log, clock: this.clock, cap: this.cap, counters: this.counters });
    this.main = openCursor(path);
    ({ hash: this.hash, prefix: this.prefix } = firstLine(this.main.fd));
    this.hashNextCheck = this.clock.nowMs() + HASH_CHECK_MS;
    const tail = options.tail ?? false;
    if (tail) this.moveToLastLineEnd();
    this.inOperation = tail;
  }

  /** Tail mode: after the last "\n" (so a line being written is read whole); at the end if none is near. */
  private moveToLastLineEnd(): void {
    const size = this.getFileSize();
    const from = Math.max(0, size - this.cap);
    const buf = Buffer.allocUnsafe(size - from);
    const n = readSync(this.main.fd, buf, 0, buf.length, from);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    const pos = nl === -1 ? size : from + nl + 1;
    setCursorPos(this.main, pos);
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
    setCursorPos(this.main, pos);
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
    while (budget > 0 && this.main.readPos < size) budget -= this.lines.readCursor(this.main, size, budget, out);
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
      next = openCursor(this.path);
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
      while (budget() > 0 && cur.readPos < size) spend(this.lines.readCursor(cur, size, budget(), out));
      if (cur.readPos < size) return false;
      const stale = this.clock.nowMs() - cur.since >= this.retireAfterMs;
      if (!(cur.final || mainSize > 0 || stale)) return true;
      this.lines.flushPartial(cur, out);
      closeSync(cur.fd);
      this.retired.shift();
    }
    return true;
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
      const copy = copyOfTruncated(this.path, cur, this.hash);
      if (copy) this.retired.push(copy);
      setCursorPos(cur, 0);
      if (this.retired.length > 0) this.drainRetired(size, out, () => Infinity, () => {});
    }
    this.hash = newHash;
    return size;
  }

  /**
   * fail2ban's `seekToTime`: moves the position (never backwards) to the first line whose date
   * is ≥ `time`, by bisection over byte offsets; of each probe, up to 5 lines are tried for a
   * date, and a probe without one counts as "late enough" (so at worst more is read, never less).
   * Only before the first read. Returns the new position.
   */
  seekToTime(time: number, dateOf: (line: string) => number | null): number {
    const cur = this.main;
    const lo = seekLineAtTime(cur.fd, cur.pos, this.getFileSize(), this.cap, this.decode, time, dateOf);
    if (lo !== cur.pos) setCursorPos(cur, lo);
    return lo;
  }
}
