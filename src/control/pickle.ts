/**
 * A pickle subset for the control socket: fail2ban's client and server exchange `pickle.dumps(…,
 * HIGHEST_PROTOCOL)` of lists, tuples, dicts, strings, numbers and exception objects.
 *
 * `encodePickle` writes what CPython 3.11's C pickler writes for the same value with protocol 5
 * (framing, MEMOIZE, batching of 1000, the large-string frame bypass), so its bytes are identical
 * to Python's as long as Python would not share objects the JS value does not share: CPython's
 * `''` and one-character Latin-1 strings are singletons, so equal ones are memoized by value here
 * too; every other string is a new object, as a string read from JSON or a socket is in Python.
 * JS objects (arrays, tuples, dicts, exceptions) are memoized by identity like Python's objects.
 *
 * `decodePickle` is a safe decoder: only opcodes that build plain data, globals only from an
 * allow-list (`builtins.str` and exception classes), nothing is ever imported or called. Results
 * are checked for depth, size and cycles (a cyclic value is refused: PyValue consumers recurse).
 * Mappings of the result onto PyValue:
 * - bytes (`BINBYTES*`, `SHORT_BINBYTES`, `BYTEARRAY8`) and Python 2 strings (`STRING` …) are
 *   decoded as Latin-1 into a string; sets and frozensets become lists (items kept in order);
 * - dict keys that are not strings are converted with `pyStr` (so `{1: 'a'}` reads as `{'1': 'a'}`;
 *   a later equal key replaces the value and keeps the first position, as a Python dict does);
 * - ints are numbers when they are safe integers, bigints otherwise;
 * - `builtins.str(x)` (how fail2ban pickles `IPAddr`) is `pyStr(x)`; an exception class called
 *   with args is a `PyException`; its optional `BUILD` state (the instance `__dict__`) is dropped.
 */
import { PortcullisError } from '../shared/errors.js';
import { PyDict, PyException, PyFloat, PyTuple, type PyValue, pyStr } from '../shared/pyvalue.js';

/** A malformed, truncated, forbidden or oversized pickle, or a value that cannot be pickled. */
export class PickleError extends PortcullisError {
  /** The input ended before the pickle did (more bytes could complete it). */
  readonly truncated: boolean;

  constructor(message: string, truncated = false) {
    super('pickle', message);
    this.truncated = truncated;
  }
}

/** The bounds `decodePickle` enforces. */
export interface PickleLimits {
  /** Largest input accepted, in bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Deepest nesting of containers in the result, and of MARKs while decoding (default 200). */
  readonly maxDepth?: number;
  /** Most values: stack entries, memo entries, and nodes of the result counted as a tree (default 2,000,000). */
  readonly maxItems?: number;
  /** Longest binary or text integer, in bytes or digits (default 4300, Python's own digit limit). */
  readonly maxIntDigits?: number;
}

const DEFAULT_LIMITS: Required<PickleLimits> = { maxBytes: 64 << 20, maxDepth: 200, maxItems: 2_000_000, maxIntDigits: 4300 };

/** Python's `pickle.HIGHEST_PROTOCOL` on the Python 3.11 fail2ban runs on. */
export const PICKLE_PROTOCOL = 5;

const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  FLOAT: 0x46, // F
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  REDUCE: 0x52, // R
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  EMPTY_DICT: 0x7d, // }
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  EMPTY_LIST: 0x5d, // ]
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  SETITEMS: 0x75, // u
  BINFLOAT: 0x47, // G
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
} as const;

// ---------------------------------------------------------------------------------------------
// UTF-8 with Python's "surrogatepass": lone surrogates travel as their 3-byte forms.

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function utf8Encode(s: string): Buffer {
  if (!LONE_SURROGATE.test(s)) return Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(out);
}

function utf8Decode(b: Uint8Array): string {
  try {
    return utf8Strict.decode(b);
  } catch {
    return utf8DecodeSurrogatePass(b);
  }
}

/** The slow path: strict UTF-8 except that encoded surrogates (ED A0..BF xx) are accepted. */
function utf8DecodeSurrogatePass(b: Uint8Array): string {
  const units: number[] = [];
  let i = 0;
  const bad = (): never => {
    throw new PickleError(`'utf-8' codec can't decode byte 0x${(b[i] ?? 0).toString(16).padStart(2, '0')} in position ${i}: invalid utf-8`);
  };
  const cont = (k: number): number => {
    const x = b[i + k];
    if (x === undefined || (x & 0xc0) !== 0x80) bad();
    return (x ?? 0) & 63;
  };
  while (i < b.length) {
    const x = b[i] ?? 0;
    let cp: number;
    let n: number;
    if (x < 0x80) [cp, n] = [x, 1];
    else if (x >= 0xc2 && x < 0xe0) [cp, n] = [((x & 31) << 6) | cont(1), 2];
    else if (x >= 0xe0 && x < 0xf0) [cp, n] = [((x & 15) << 12) | (cont(1) << 6) | cont(2), 3];
    else if (x >= 0xf0 && x < 0xf5) [cp, n] = [((x & 7) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3), 4];
    else return bad();
    if ((n === 3 && cp < 0x800) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff))) bad();
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += n;
  }
  let out = '';
  for (let k = 0; k < units.length; k += 8192) out += String.fromCharCode(...units.slice(k, k + 8192));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder

const FRAME_SIZE_TARGET = 64 * 1024;
const FRAME_SIZE_MIN = 4;
const FRAME_HEADER_SIZE = 9;
const BATCHSIZE = 1000;
const MAX_ENCODE_DEPTH = 1000;

/** CPython keeps `''` and every one-character Latin-1 string as a singleton object. */
function isPySingletonString(s: string): boolean {
  return s.length === 0 || (s.length === 1 && s.charCodeAt(0) < 256);
}

class Encoder {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;
  private framing = false;
  private frameStart = -1;
  private readonly memo = new Map<object, number>();
  private readonly stringMemo = new Map<string, number>();
  private readonly moduleMemo = new Map<string, number>();
  private readonly classMemo = new Map<string, number>();
  private readonly active = new Set<object>();
  private memoSize = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Writes raw bytes, opening a frame first when framing and no frame is open (like `_Pickler_Write`). */
  private write(bytes: Uint8Array | readonly number[]): void {
    const newFrame = this.framing && this.frameStart === -1;
    this.ensure(bytes.length + (newFrame ? FRAME_HEADER_SIZE : 0));
    if (newFrame) {
      this.frameStart = this.len;
      this.len += FRAME_HEADER_SIZE;
    }
    if (bytes instanceof Uint8Array) this.buf.set(bytes, this.len);
    else for (let i = 0; i < bytes.length; i++) this.buf[this.len + i] = bytes[i] ?? 0;
    this.len += bytes.length;
  }

  private op(code: number): void {
    this.write([code]);
  }

  private commitFrame(): void {
    if (!this.framing || this.frameStart === -1) return;
    const start = this.frameStart;
    const frameLen = this.len - start - FRAME_HEADER_SIZE;
    if (frameLen >= FRAME_SIZE_MIN) {
      this.buf[start] = OP.FRAME;
      this.buf.writeBigUInt64LE(BigInt(frameLen), start + 1);
    } else {
      this.buf.copyWithin(start, start + FRAME_HEADER_SIZE, this.len);
      this.len -= FRAME_HEADER_SIZE;
    }
    this.frameStart = -1;
  }

  /** CPython commits a frame that reached the target size before each object it saves. */
  private opcodeBoundary(): void {
    if (this.framing && this.frameStart !== -1 && this.len - this.frameStart - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET) this.commitFrame();
  }

  /** Header then payload; a payload of 64 KiB or more goes outside any frame (`_Pickler_write_bytes`). */
  private writeBytes(header: readonly number[], data: Uint8Array): void {
    const bypass = data.length >= FRAME_SIZE_TARGET;
    const framing = this.framing;
    if (bypass) {
      this.commitFrame();
      this.framing = false;
    }
    this.write(header);
    this.write(data);
    this.framing = framing;
  }

  private memoize(): number {
    this.op(OP.MEMOIZE);
    return this.memoSize++;
  }

  private get(index: number): void {
    if (index < 256) this.write([OP.BINGET, index]);
    else this.write([OP.LONG_BINGET, index & 0xff, (index >>> 8) & 0xff, (index >>> 16) & 0xff, (index >>> 24) & 0xff]);
  }

  run(value: PyValue): Buffer {
    this.write([OP.PROTO, PICKLE_PROTOCOL]);
    this.framing = true;
    this.save(value, 0);
    this.op(OP.STOP);
    this.commitFrame();
    this.framing = false;
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  private save(v: PyValue, depth: number): void {
    this.opcodeBoundary();
    if (depth > MAX_ENCODE_DEPTH) throw new PickleError(`value nested deeper than ${MAX_ENCODE_DEPTH} levels`);
    if (v === null) return this.op(OP.NONE);
    if (v === true) return this.op(OP.NEWTRUE);
    if (v === false) return this.op(OP.NEWFALSE);
    if (typeof v === 'number') return this.saveNumber(v);
    if (typeof v === 'bigint') return this.saveInt(v);
    if (v instanceof PyFloat) {
      const b = Buffer.allocUnsafe(9);
      b[0] = OP.BINFLOAT;
      b.writeDoubleBE(v.value, 1);
      return this.write(b);
    }
    if (typeof v === 'string') return this.saveString(v);
    if (typeof v !== 'object') throw new PickleError(`cannot pickle a JavaScript ${typeof v}`);
    const seen = this.memo.get(v);
    if (seen !== undefined) return this.get(seen);
    if (this.active.has(v)) throw new PickleError('cannot pickle a cyclic value');
    this.active.add(v);
    if (Array.isArray(v)) this.saveList(v as readonly PyValue[], depth);
    else if (v instanceof PyTuple) this.saveTuple(v, v.items, depth);
    else if (v instanceof PyDict) this.saveDict(v, depth);
    else if (v instanceof PyException) this.saveException(v, depth);
    else throw new PickleError(`cannot pickle a ${(v as object).constructor.name}`);
    this.active.delete(v);
  }

  private saveNumber(n: number): void {
    if (!Number.isInteger(n)) throw new PickleError(`${n} is not an int (floats are PyFloat)`);
    if (n >= -0x80000000 && n <= 0x7fffffff) {
      if (n >= 0 && n <= 0xff) return this.write([OP.BININT1, n]);
      if (n >= 0 && n <= 0xffff) return this.write([OP.BININT2, n & 0xff, n >> 8]);
      const b = Buffer.allocUnsafe(5);
      b[0] = OP.BININT;
      b.writeInt32LE(n, 1);
      return this.write(b);
    }
    this.saveInt(BigInt(n));
  }

  private saveInt(n: bigint): void {
    if (n >= -0x80000000n && n <= 0x7fffffffn) return this.saveNumber(Number(n));
    const bytes = encodeLong(n);
    if (bytes.length < 256) this.write([OP.LONG1, bytes.length]);
    else this.write([OP.LONG4, ...u32le(bytes.length)]);
    this.write(bytes);
  }

  private saveString(s: string): void {
    const single = isPySingletonString(s);
    if (single) {
      const seen = this.stringMemo.get(s);
      if (seen !== undefined) return this.get(seen);
    }
    this.writeUnicode(s);
    const index = this.memoize();
    if (single) this.stringMemo.set(s, index);
  }

  private writeUnicode(s: string): void {
    const data = utf8Encode(s);
    if (data.length < 256) this.writeBytes([OP.SHORT_BINUNICODE, data.length], data);
    else if (data.length <= 0xffffffff) this.writeBytes([OP.BINUNICODE, ...u32le(data.length)], data);
    else this.writeBytes([OP.BINUNICODE8, ...u64le(data.length)], data);
  }

  private saveList(list: readonly PyValue[], depth: number): void {
    this.op(OP.EMPTY_LIST);
    this.memo.set(list, this.memoize());
    if (list.length === 1) {
      this.save(list[0] ?? null, depth + 1);
      return this.op(OP.APPEND);
    }
    let total = 0;
    while (total < list.length) {
      this.op(OP.MARK);
      const end = Math.min(list.length, total + BATCHSIZE);
      for (; total < end; total++) this.save(list[total] ?? null, depth + 1);
      this.op(OP.APPENDS);
    }
  }

  private saveTuple(key: object, items: readonly PyValue[], depth: number): void {
    if (items.length === 0) return this.op(OP.EMPTY_TUPLE);
    if (items.length > 3) this.op(OP.MARK);
    for (const item of items) this.save(item, depth + 1);
    const ops = [OP.TUPLE, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3];
    this.op(items.length > 3 ? OP.TUPLE : (ops[items.length] ?? OP.TUPLE));
    this.memo.set(key, this.memoize());
  }

  private saveDict(dict: PyDict, depth: number): void {
    this.op(OP.EMPTY_DICT);
    this.memo.set(dict, this.memoize());
    const entries = dict.entries;
    if (entries.length === 0) return;
    if (entries.length === 1) {
      const [k, v] = entries[0] ?? ['', null];
      this.save(k, depth + 1);
      this.save(v, depth + 1);
      return this.op(OP.SETITEM);
    }
    // CPython's batch loop writes an empty trailing MARK SETITEMS when the size is a multiple of 1000.
    let i = 0;
    let batch: number;
    do {
      this.op(OP.MARK);
      batch = 0;
      for (; i < entries.length && batch < BATCHSIZE; i++, batch++) {
        const [k, v] = entries[i] ?? ['', null];
        this.save(k, depth + 1);
        this.save(v, depth + 1);
      }
      this.op(OP.SETITEMS);
    } while (batch === BATCHSIZE);
  }

  private saveException(exc: PyException, depth: number): void {
    this.saveGlobal(exc.module, exc.name);
    this.opcodeBoundary();
    this.saveTuple({}, exc.args, depth + 1);
    this.op(OP.REDUCE);
    this.memo.set(exc, this.memoize());
  }

  private saveGlobal(module: string, name: string): void {
    this.opcodeBoundary();
    const key = `${module}\0${name}`;
    const seen = this.classMemo.get(key);
    if (seen !== undefined) return this.get(seen);
    // A module's name is one shared object for all of its classes; the class name is not.
    this.opcodeBoundary();
    const mod = this.moduleMemo.get(module);
    if (mod !== undefined) this.get(mod);
    else {
      this.writeUnicode(module);
      this.moduleMemo.set(module, this.memoize());
    }
    this.opcodeBoundary();
    this.writeUnicode(name);
    this.memoize();
    this.op(OP.STACK_GLOBAL);
    this.classMemo.set(key, this.memoize());
  }
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function u64le(n: number): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return [...b];
}

/** Python's `encode_long`: two's complement, little-endian, as few bytes as keep the sign. */
function encodeLong(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  const abs = n < 0n ? -n : n;
  const nbits = abs.toString(2).length;
  let nbytes = (nbits >> 3) + 1;
  const mod = 1n << BigInt(nbytes * 8);
  let x = n < 0n ? mod + n : n;
  const out = new Uint8Array(nbytes);
  for (let i = 0; i < nbytes; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (n < 0n && nbytes > 1 && out[nbytes - 1] === 0xff && ((out[nbytes - 2] ?? 0) & 0x80) !== 0) nbytes--;
  return out.subarray(0, nbytes);
}

/** `pickle.dumps(value, 5)` as CPython 3.11 writes it for the same (unshared) value. */
export function encodePickle(value: PyValue): Buffer {
  return new Encoder().run(value);
}

// ---------------------------------------------------------------------------------------------
// Decoder

/** A class named by GLOBAL/STACK_GLOBAL that passed the allow-list; it only lives on the stack. */
class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

const BUILTIN_EXCEPTIONS = new Set(
  (
    'ArithmeticError AssertionError AttributeError BaseException BlockingIOError BrokenPipeError BufferError ' +
    'ChildProcessError ConnectionAbortedError ConnectionError ConnectionRefusedError ConnectionResetError EOFError ' +
    'EnvironmentError Exception FileExistsError FileNotFoundError FloatingPointError GeneratorExit IOError ImportError ' +
    'IndentationError IndexError InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError ' +
    'ModuleNotFoundError NameError NotADirectoryError NotImplementedError OSError OverflowError PermissionError ' +
    'ProcessLookupError RecursionError ReferenceError RuntimeError StopAsyncIteration StopIteration SyntaxError ' +
    'SystemError SystemExit TabError TimeoutError TypeError UnboundLocalError UnicodeDecodeError UnicodeEncodeError ' +
    'UnicodeError UnicodeTranslateError ValueError ZeroDivisionError Warning UserWarning DeprecationWarning ' +
    'PendingDeprecationWarning SyntaxWarning RuntimeWarning FutureWarning ImportWarning UnicodeWarning BytesWarning ' +
    'ResourceWarning EncodingWarning'
  ).split(' '),
);
const F2B_EXCEPTIONS = new Set(['DuplicateJailException', 'UnknownJailException']);
/** Python 2 spellings that Python 3's unpickler maps to `builtins` (`fix_imports`). */
const BUILTIN_MODULES = new Set(['builtins', '__builtin__', 'exceptions']);

function allowGlobal(module: string, name: string): PyGlobal {
  if (BUILTIN_MODULES.has(module) && (name === 'str' || BUILTIN_EXCEPTIONS.has(name))) return new PyGlobal('builtins', name);
  if (module === 'fail2ban.exceptions' && F2B_EXCEPTIONS.has(name)) return new PyGlobal(module, name);
  throw new PickleError(`global '${module}.${name}' is forbidden`);
}

/** An internal mutable dict while decoding: the PyDict's entries array plus a key index. */
interface DictState {
  readonly entries: Array<[string, PyValue]>;
  readonly index: Map<string, number>;
}

type Item = PyValue | PyGlobal;

class Decoder {
  private pos = 0;
  private stack: Item[] = [];
  private readonly marks: Item[][] = [];
  private readonly memo = new Map<number, Item>();
  private readonly dicts = new WeakMap<PyDict, DictState>();
  private readonly sets = new WeakSet<object>();
  private pushes = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly limits: Required<PickleLimits>,
  ) {}

  private truncated(): never {
    throw new PickleError('pickle data was truncated', true);
  }

  private need(n: number): number {
    if (n > this.buf.length - this.pos) this.truncated();
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private byte(): number {
    return this.buf[this.need(1)] ?? 0;
  }

  private bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  private u16(): number {
    const at = this.need(2);
    return (this.buf[at] ?? 0) | ((this.buf[at + 1] ?? 0) << 8);
  }

  private u32(): number {
    const at = this.need(4);
    return ((this.buf[at] ?? 0) | ((this.buf[at + 1] ?? 0) << 8) | ((this.buf[at + 2] ?? 0) << 16)) + (this.buf[at + 3] ?? 0) * 0x1000000;
  }

  private i32(): number {
    return this.u32() | 0;
  }

  /** An 8-byte length; anything beyond the input is truncation, checked before any allocation. */
  private u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi >= 0x200000) this.truncated();
    return hi * 0x100000000 + lo;
  }

  /** A text argument up to `\n` (protocol 0), as Latin-1. */
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end === -1) this.truncated();
    const text = Buffer.from(this.buf.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return text;
  }

  private push(v: Item): void {
    if (++this.pushes > this.limits.maxItems) throw new PickleError(`more than ${this.limits.maxItems} values pushed`);
    this.stack.push(v);
  }

  private pop(): Item {
    if (this.stack.length === 0) throw new PickleError('unpickling stack underflow');
    return this.stack.pop() as Item;
  }

  private top(): Item {
    if (this.stack.length === 0) throw new PickleError('unpickling stack underflow');
    return this.stack[this.stack.length - 1] as Item;
  }

  private popMark(): Item[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (prev === undefined) throw new PickleError('could not find MARK');
    this.stack = prev;
    return items;
  }

  private value(v: Item): PyValue {
    if (v instanceof PyGlobal) throw new PickleError(`the class ${v.module}.${v.name} cannot be a value`);
    return v;
  }

  private memoPut(index: number, v: Item): void {
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxItems) throw new PickleError(`more than ${this.limits.maxItems} memo entries`);
    this.memo.set(index, v);
  }

  private memoGet(index: number): void {
    const v = this.memo.get(index);
    if (v === undefined) throw new PickleError(`Memo value not found at index ${index}`);
    this.push(v);
  }

  private textIndex(): number {
    const text = this.line();
    if (!/^\d{1,15}$/.test(text)) throw new PickleError(`invalid memo key ${JSON.stringify(text)}`);
    return Number(text);
  }

  private intFromBigint(n: bigint): number | bigint {
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }

  private textInt(text: string, what: string): number | bigint {
    const t = text.trim().replace(/_/g, '');
    if (!/^[+-]?\d+$/.test(t)) throw new PickleError(`invalid literal for ${what}: ${JSON.stringify(text)}`);
    if (t.length > this.limits.maxIntDigits) throw new PickleError(`integer of more than ${this.limits.maxIntDigits} digits`);
    return this.intFromBigint(BigInt(t));
  }

  private binLong(n: number): number | bigint {
    if (n > this.limits.maxIntDigits) throw new PickleError(`integer of more than ${this.limits.maxIntDigits} bytes`);
    const b = this.bytes(n);
    if (n === 0) return 0;
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i] ?? 0);
    if (((b[n - 1] ?? 0) & 0x80) !== 0) x -= 1n << BigInt(n * 8);
    return this.intFromBigint(x);
  }

  private addToList(target: Item, items: Item[]): void {
    if (!Array.isArray(target)) throw new PickleError('APPEND(S) to something that is not a list');
    const list = target as PyValue[];
    if (list.length + items.length > this.limits.maxItems) throw new PickleError(`a list of more than ${this.limits.maxItems} items`);
    for (const item of items) list.push(this.value(item));
  }

  private setItems(target: Item, items: Item[]): void {
    if (!(target instanceof PyDict)) throw new PickleError('SETITEM(S) to something that is not a dict');
    const state = this.dicts.get(target);
    if (state === undefined) throw new PickleError('SETITEM(S) to a finished dict');
    if (items.length % 2 !== 0) throw new PickleError('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) {
      const key = atomStr(this.value(items[i] ?? null), 'a dict key');
      const v = this.value(items[i + 1] ?? null);
      const at = state.index.get(key);
      if (at !== undefined) (state.entries[at] as [string, PyValue])[1] = v;
      else {
        if (state.entries.length >= this.limits.maxItems) throw new PickleError(`a dict of more than ${this.limits.maxItems} items`);
        state.index.set(key, state.entries.length);
        state.entries.push([key, v]);
      }
    }
  }

  private newDict(): PyDict {
    const state: DictState = { entries: [], index: new Map() };
    const dict = new PyDict(state.entries);
    this.dicts.set(dict, state);
    return dict;
  }

  private reduce(): void {
    const args = this.pop();
    const callable = this.pop();
    if (!(callable instanceof PyGlobal)) throw new PickleError('REDUCE of something that is not an allowed class');
    if (!(args instanceof PyTuple)) throw new PickleError('REDUCE arguments are not a tuple');
    if (callable.name === 'str' && callable.module === 'builtins') {
      if (args.items.length > 1) throw new PickleError('str() with more than one argument');
      return this.push(args.items.length === 0 ? '' : atomStr(args.items[0] ?? null, 'the argument of str()'));
    }
    this.push(new PyException(callable.module, callable.name, args.items));
  }

  private global(module: string, name: string): void {
    this.push(allowGlobal(module, name));
  }

  run(): PyValue {
    const L = this.limits;
    if (this.buf.length > L.maxBytes) throw new PickleError(`pickle of ${this.buf.length} bytes exceeds the limit of ${L.maxBytes}`);
    for (;;) {
      // Like CPython: input that ends where an opcode should be "ran out", inside an argument it is "truncated".
      if (this.pos >= this.buf.length) throw new PickleError('Ran out of input', true);
      const op = this.byte();
      switch (op) {
        case OP.PROTO: {
          const p = this.byte();
          if (p > PICKLE_PROTOCOL) throw new PickleError(`unsupported pickle protocol: ${p}`);
          break;
        }
        case OP.FRAME: {
          const n = this.u64();
          if (n > this.buf.length - this.pos) this.truncated();
          break;
        }
        case OP.STOP: {
          const result = this.value(this.pop());
          checkResult(result, L);
          return result;
        }
        case OP.MARK:
          if (this.marks.length >= L.maxDepth) throw new PickleError(`more than ${L.maxDepth} nested MARKs`);
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case OP.POP:
          if (this.stack.length === 0) this.popMark();
          else this.pop();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;
        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.INT: {
          const text = this.line();
          if (text === '00' || text === '01') this.push(text === '01');
          else this.push(this.textInt(text, 'int() with base 10'));
          break;
        }
        case OP.BININT:
          this.push(this.i32());
          break;
        case OP.BININT1:
          this.push(this.byte());
          break;
        case OP.BININT2:
          this.push(this.u16());
          break;
        case OP.LONG:
          this.push(this.textInt(this.line().replace(/L$/, ''), 'int() with base 10'));
          break;
        case OP.LONG1:
          this.push(this.binLong(this.byte()));
          break;
        case OP.LONG4: {
          const n = this.i32();
          if (n < 0) throw new PickleError('LONG pickle has negative byte count');
          this.push(this.binLong(n));
          break;
        }
        case OP.FLOAT: {
          const text = this.line().trim();
          if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i.test(text)) throw new PickleError(`could not convert string to float: ${JSON.stringify(text)}`);
          const lower = text.toLowerCase().replace(/^\+/, '');
          const x = lower.endsWith('nan') ? NaN : lower.endsWith('inf') || lower.endsWith('infinity') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(text);
          this.push(new PyFloat(x));
          break;
        }
        case OP.BINFLOAT: {
          const at = this.need(8);
          this.push(new PyFloat(Buffer.from(this.buf.buffer, this.buf.byteOffset + at, 8).readDoubleBE(0)));
          break;
        }
        case OP.STRING:
          this.push(pyEscapeDecode(this.line()));
          break;
        case OP.BINSTRING: {
          const n = this.i32();
          if (n < 0) throw new PickleError('BINSTRING pickle has negative byte count');
          this.push(latin1(this.bytes(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
        case OP.SHORT_BINBYTES:
          this.push(latin1(this.bytes(this.byte())));
          break;
        case OP.BINBYTES:
          this.push(latin1(this.bytes(this.u32())));
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          this.push(latin1(this.bytes(this.u64())));
          break;
        case OP.UNICODE:
          this.push(rawUnicodeEscapeDecode(this.line()));
          break;
        case OP.SHORT_BINUNICODE:
          this.push(utf8Decode(this.bytes(this.byte())));
          break;
        case OP.BINUNICODE:
          this.push(utf8Decode(this.bytes(this.u32())));
          break;
        case OP.BINUNICODE8:
          this.push(utf8Decode(this.bytes(this.u64())));
          break;
        case OP.EMPTY_LIST:
          this.push([]);
          break;
        case OP.APPEND: {
          const v = this.pop();
          this.addToList(this.top(), [v]);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          this.addToList(this.top(), items);
          break;
        }
        case OP.LIST:
          this.push(this.popMark().map((v) => this.value(v)));
          break;
        case OP.EMPTY_TUPLE:
          this.push(new PyTuple([]));
          break;
        case OP.TUPLE:
          this.push(new PyTuple(this.popMark().map((v) => this.value(v))));
          break;
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = op - OP.TUPLE1 + 1;
          if (this.stack.length < n) throw new PickleError('unpickling stack underflow');
          this.push(new PyTuple(this.stack.splice(this.stack.length - n, n).map((v) => this.value(v))));
          break;
        }
        case OP.EMPTY_DICT:
          this.push(this.newDict());
          break;
        case OP.DICT: {
          const items = this.popMark();
          const dict = this.newDict();
          this.setItems(dict, items);
          this.push(dict);
          break;
        }
        case OP.SETITEM: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case OP.EMPTY_SET: {
          const set: PyValue[] = [];
          this.sets.add(set);
          this.push(set);
          break;
        }
        case OP.ADDITEMS: {
          const items = this.popMark();
          const target = this.top();
          if (typeof target !== 'object' || target === null || !this.sets.has(target)) throw new PickleError('ADDITEMS to something that is not a set');
          this.addToList(target, items);
          break;
        }
        case OP.FROZENSET:
          this.push(this.popMark().map((v) => this.value(v)));
          break;
        case OP.PUT:
          this.memoPut(this.textIndex(), this.top());
          break;
        case OP.BINPUT:
          this.memoPut(this.byte(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memoPut(this.u32(), this.top());
          break;
        case OP.MEMOIZE:
          this.memoPut(this.memo.size, this.top());
          break;
        case OP.GET:
          this.memoGet(this.textIndex());
          break;
        case OP.BINGET:
          this.memoGet(this.byte());
          break;
        case OP.LONG_BINGET:
          this.memoGet(this.u32());
          break;
        case OP.GLOBAL: {
          const module = this.line();
          this.global(module, this.line());
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof name !== 'string' || typeof module !== 'string') throw new PickleError('STACK_GLOBAL requires str');
          this.global(module, name);
          break;
        }
        case OP.REDUCE:
          this.reduce();
          break;
        case OP.BUILD: {
          const state = this.pop();
          if (!(this.top() instanceof PyException) || !(state === null || state instanceof PyDict || state instanceof PyTuple))
            throw new PickleError('BUILD is only accepted on an exception');
          break;
        }
        default:
          throw new PickleError(`invalid load key, '${pyByteChar(op)}'.`);
      }
    }
  }
}

/** `str(v)` of a plain value or a flat tuple of them; anything nested is refused (its repr could be huge). */
function atomStr(v: PyValue, what: string): string {
  const atom = (x: PyValue): boolean => x === null || typeof x !== 'object' || x instanceof PyFloat;
  if (atom(v) || (v instanceof PyTuple && v.items.every(atom))) return pyStr(v);
  throw new PickleError(`${what} must be a plain value, not ${Array.isArray(v) ? 'a list' : v instanceof PyDict ? 'a dict' : 'a nested value'}`);
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** How Python shows an unknown opcode byte in "invalid load key, 'x'.". */
function pyByteChar(b: number): string {
  if (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c) return String.fromCharCode(b);
  return '\\x' + b.toString(16).padStart(2, '0');
}

/** Protocol 0 `STRING`: a quoted Python 2 str literal, decoded with `escape_decode`, then Latin-1. */
function pyEscapeDecode(text: string): string {
  const q = text[0];
  if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) throw new PickleError('the STRING opcode argument must be quoted');
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new PickleError('Trailing \\ in string');
    const simple: Record<string, string> = { '\n': '', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    const mapped = simple[e];
    if (mapped !== undefined) out += mapped;
    else if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new PickleError(`invalid \\x escape at position ${i - 1}`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i, i + 3))?.[0] ?? e;
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else out += '\\' + e;
  }
  return out;
}

/** Protocol 0 `UNICODE`: raw-unicode-escape (`\uXXXX`, `\UXXXXXXXX`, everything else Latin-1). */
function rawUnicodeEscapeDecode(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})|\\[uU]/g, (m: string, hex: string | undefined) => {
    if (hex === undefined) throw new PickleError("'rawunicodeescape' codec can't decode bytes: truncated \\uXXXX escape");
    const cp = parseInt(hex.slice(1), 16);
    if (cp > 0x10ffff) throw new PickleError("'rawunicodeescape' codec can't decode bytes: \\Uxxxxxxxx out of range");
    return String.fromCodePoint(cp);
  });
}

/** Walks the result as a tree (shared parts counted each time): depth, size, no cycles, only PyValues. */
function checkResult(root: PyValue, limits: Required<PickleLimits>): void {
  let count = 0;
  const onPath = new Set<object>();
  const stack: Array<{ readonly node: object; readonly children: readonly PyValue[]; next: number }> = [];
  const enter = (v: PyValue): void => {
    if (++count > limits.maxItems) throw new PickleError(`the value has more than ${limits.maxItems} items`);
    if (v === null || typeof v !== 'object' || v instanceof PyFloat) return;
    if (onPath.has(v)) throw new PickleError('the value contains itself (cyclic values are refused)');
    if (stack.length >= limits.maxDepth) throw new PickleError(`the value is nested deeper than ${limits.maxDepth} levels`);
    let children: readonly PyValue[];
    if (Array.isArray(v)) children = v as readonly PyValue[];
    else if (v instanceof PyTuple) children = v.items;
    else if (v instanceof PyDict) children = v.entries.map((e) => e[1]);
    else if (v instanceof PyException) children = v.args;
    else throw new PickleError('the value holds something that is not a Python value');
    onPath.add(v);
    stack.push({ node: v, children, next: 0 });
  };
  enter(root);
  for (;;) {
    const frame = stack[stack.length - 1];
    if (frame === undefined) return;
    if (frame.next < frame.children.length) enter(frame.children[frame.next++] ?? null);
    else {
      onPath.delete(frame.node);
      stack.pop();
    }
  }
}

/** Decodes one pickle (bytes after its STOP are ignored, as `pickle.loads` does); throws `PickleError`. */
export function decodePickle(buf: Uint8Array, limits?: PickleLimits): PyValue {
  const lim: Required<PickleLimits> = { ...DEFAULT_LIMITS, ...limits };
  try {
    return new Decoder(buf, lim).run();
  } catch (err) {
    if (err instanceof PickleError) throw err;
    // Nothing else is expected; a RangeError (say) still becomes a typed error, never a crash.
    throw new PickleError(`undecodable pickle: ${err instanceof Error ? err.message : String(err)}`);
  }
}
