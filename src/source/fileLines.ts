/**
 * Bytes of a cursor to complete lines, as fail2ban's `FileContainer` delivers them: an
 * unterminated last line is held for the next read, lines longer than the cap are cut (warned once
 * a day), lines are decoded with the jail's `logencoding` — whole blocks at once, line by line only
 * where invalid bytes are (fail2ban's `decode_line` warning, replacement characters).
 */
import { readSync } from 'node:fs';
import type { Clock } from '../system/clock.js';
import { codecFamily, stripLineEnd, type Decoder } from '../system/lines.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import type { Cursor } from './fileCursor.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const FILTER_LOGGER = 'fail2ban.filter';

export interface ContainerCounters {
  lines: number;
  bytes: number;
  rotations: number;
  decodeErrors: number;
  longLines: number;
}

export interface LineReaderOptions {
  readonly path: string;
  readonly encodingName: string;
  readonly decode: Decoder;
  readonly log: ServerLog;
  readonly clock: Clock;
  /** Longer lines are cut at this many bytes. */
  readonly cap: number;
  /** Shared with the container: lines, bytes, decodeErrors and longLines are counted here. */
  readonly counters: ContainerCounters;
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

export class LineReader {
  private readonly path: string;
  private readonly encodingName: string;
  private readonly decode: Decoder;
  private readonly valid: Validator | undefined;
  private readonly utf8: boolean;
  private readonly log: ServerLog;
  private readonly clock: Clock;
  private readonly cap: number;
  private readonly counters: ContainerCounters;
  private lastDecodeWarn = -Infinity;
  private lastLongWarn = -Infinity;

  constructor(o: LineReaderOptions) {
    this.path = o.path;
    this.encodingName = o.encodingName;
    this.decode = o.decode;
    this.valid = validatorFor(o.encodingName);
    this.utf8 = codecFamily(o.encodingName) === 'utf-8';
    this.log = o.log;
    this.clock = o.clock;
    this.cap = o.cap;
    this.counters = o.counters;
  }

  /** One pread of at most `budget` bytes up to `size`; lines go to `out`. Returns the bytes read. */
  readCursor(cur: Cursor, size: number, budget: number, out: string[]): number {
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

  /** A retired file's unterminated last line is delivered when it is closed: nothing will end it any more. */
  flushPartial(cur: Cursor, out: string[]): void {
    if (cur.carryLen === 0 && !cur.long) return;
    this.emitHeld(cur, Buffer.alloc(0), out);
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
}
