/**
 * The reading state of one open descriptor of a followed file (the current file, or a retired
 * one of a rotation or a copytruncate copy): opening it with Python's error texts, resetting it.
 */
import { closeSync, fstatSync, openSync, type BigIntStats } from 'node:fs';
import { LogFileError, asLogFileError } from './fileErrors.js';

/** Reading state of one descriptor. */
export interface Cursor {
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

export function fstatBig(fd: number): BigIntStats {
  return fstatSync(fd, { bigint: true });
}

/** Opens `path` for reading at 0; throws `LogFileError` (also for a directory). */
export function openCursor(path: string): Cursor {
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

/** Moves the cursor to `pos` (a line start), dropping what it held. */
export function setCursorPos(cur: Cursor, pos: number): void {
  cur.pos = cur.readPos = pos;
  cur.carry = [];
  cur.carryLen = 0;
  cur.long = false;
  cur.boundary = true;
}
