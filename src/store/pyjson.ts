/**
 * The `data` column of fail2ban's database: Python 3's `json.dumps(obj, ensure_ascii=False)`
 * encoded as UTF-8 with `errors='replace'` (database.py `_json_dumps_safe`), byte for byte, and a
 * tolerant reader of what Python (or an older fail2ban) wrote there.
 *
 * Writing maps JavaScript values the way the Python values they stand for are written: integers
 * (`number` with an integral value, `bigint`) as ints, other numbers and `PyFloat` as Python's
 * float repr (`NaN`, `Infinity`, `-Infinity` as Python writes them), `PyDict`, `Map` and plain
 * objects as dicts in insertion order (plain objects put integer-like keys first — JavaScript's
 * rule; use a `Map` or `PyDict` where that matters), arrays and `PyTuple` as lists, `null` and
 * `undefined` as `null`. Anything else goes through fail2ban's `default=` hook: a set becomes the
 * `str()` of its list, an `IPAddr` (a `str` subclass) its text, any other object its `String()`.
 *
 * Reading gives `PyValue`s: objects as `PyDict`, numbers with a fraction or exponent (and the
 * `NaN`/`Infinity` tokens) as `PyFloat`, integers as `number` (`bigint` beyond 2^53), so that a
 * value read and written again is the same bytes.
 */
import { PyDict, PyException, PyFloat, PyTuple, pyRepr, pyReprFloat, pyStr } from '../shared/pyvalue.js';
import type { PyValue } from '../shared/pyvalue.js';
import { isIpAddress } from '../shared/ip.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A JSON string literal as Python's `json` writes it with `ensure_ascii=False`. */
export function pyJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  return '"' + s.replace(/["\\\x00-\x1f]/g, (c) => ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
}

const NEEDS_ESCAPE = /["\\\x00-\x1f]/;

/** A float as `json.dumps` writes it (`float.__repr__`, with `NaN`/`Infinity`/`-Infinity`). */
export function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyReprFloat(x);
}

function pyJsonNumber(x: number): string {
  if (!Number.isInteger(x) || Object.is(x, -0)) return pyJsonFloat(x);
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

function isPlainObject(v: object): v is Readonly<Record<string, unknown>> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function dictText(entries: Iterable<readonly [unknown, unknown]>): string {
  const parts: string[] = [];
  for (const [k, v] of entries) parts.push(`${pyJsonString(typeof k === 'string' ? k : String(k))}: ${pyJsonDumps(v)}`);
  return '{' + parts.join(', ') + '}';
}

function listText(items: Iterable<unknown>): string {
  const parts: string[] = [];
  for (const v of items) parts.push(pyJsonDumps(v));
  return '[' + parts.join(', ') + ']';
}

/** fail2ban's `_json_default`: what json cannot write natively becomes a string. */
function defaultText(v: object): string {
  if (v instanceof Set) return pyJsonString(pyRepr(Array.from(v as ReadonlySet<PyValue>)));
  if (v instanceof PyException) return pyJsonString(pyStr(v));
  const text: unknown = (v as { toString(): unknown }).toString();
  return pyJsonString(typeof text === 'string' ? text : '');
}

/** `json.dumps(value, ensure_ascii=False)` of Python 3 (separators `', '` and `': '`). */
export function pyJsonDumps(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return pyJsonString(value);
    case 'number':
      return pyJsonNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof PyFloat) return pyJsonFloat(value.value);
      if (value instanceof PyDict) return dictText(value.entries);
      if (value instanceof PyTuple) return listText(value.items);
      if (Array.isArray(value)) return listText(value as readonly unknown[]);
      if (value instanceof Map) return dictText(value as ReadonlyMap<unknown, unknown>);
      if (isIpAddress(value)) return pyJsonString(value.text);
      if (isPlainObject(value)) return dictText(Object.entries(value));
      return defaultText(value);
    case 'symbol':
    case 'function':
      return pyJsonString(String(value));
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text.encode('utf-8', 'replace')`: a lone surrogate becomes `?` (Node would write U+FFFD). */
export function pyEncodeUtf8(text: string): Buffer {
  return Buffer.from(ANY_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '?') : text, 'utf8');
}

const ANY_SURROGATE = /[\ud800-\udfff]/;

/** The bytes fail2ban stores in a `data` column for `value`. */
export function dumpData(value: unknown): Buffer {
  return pyEncodeUtf8(pyJsonDumps(value));
}

/** Why a `data` value could not be read (fail2ban logs `json loads failed` and uses `{}`). */
export class PyJsonSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message}: char ${position}`);
  }
}

const DECODER = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** `json.loads(blob.decode('utf-8', 'replace'))`; throws {@link PyJsonSyntaxError}. */
export function pyJsonLoads(input: string | Uint8Array): PyValue {
  const text = typeof input === 'string' ? input : DECODER.decode(input);
  const p = new JsonParser(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.pos !== text.length) p.fail('Extra data');
  return v;
}

/** `_json_loads_safe`: the parsed value, or `undefined` when it is not valid JSON. */
export function loadData(input: string | Uint8Array | null): PyValue | undefined {
  if (input === null) return null;
  try {
    return pyJsonLoads(input);
  } catch (err) {
    if (err instanceof PyJsonSyntaxError) return undefined;
    throw err;
  }
}

const STRING_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

/** Python's `json` scanner (strict: raw control characters in strings are refused). */
class JsonParser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new PyJsonSyntaxError(message, this.pos);
  }

  ws(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos] ?? '')) this.pos++;
  }

  private word(w: string): boolean {
    if (!this.text.startsWith(w, this.pos)) return false;
    this.pos += w.length;
    return true;
  }

  value(): PyValue {
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (this.word('null')) return null;
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('NaN')) return new PyFloat(NaN);
    if (this.word('Infinity')) return new PyFloat(Infinity);
    if (this.word('-Infinity')) return new PyFloat(-Infinity);
    return this.number();
  }

  private number(): PyValue {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('Expecting value');
    this.pos += m[0].length;
    if (m[1] !== undefined || m[2] !== undefined) return new PyFloat(Number(m[0]));
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  }

  private string(): string {
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('Unterminated string starting at');
      this.pos++;
      if (c === '"') return out;
      if (c < ' ') this.fail('Invalid control character at');
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.escape();
    }
  }

  private escape(): string {
    const e = this.text[this.pos] ?? '';
    this.pos++;
    if (e !== 'u') return STRING_ESCAPES[e] ?? this.fail('Invalid \\escape');
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\uXXXX escape');
    this.pos += 4;
    return String.fromCharCode(parseInt(hex, 16));
  }

  private array(): PyValue[] {
    this.pos++;
    const items: PyValue[] = [];
    this.ws();
    if (this.word(']')) return items;
    for (;;) {
      this.ws();
      items.push(this.value());
      this.ws();
      if (this.word(']')) return items;
      if (!this.word(',')) this.fail("Expecting ',' delimiter");
    }
  }

  private object(): PyDict {
    this.pos++;
    const map = new Map<string, PyValue>();
    this.ws();
    if (this.word('}')) return new PyDict([]);
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('Expecting property name enclosed in double quotes');
      const key = this.string();
      this.ws();
      if (!this.word(':')) this.fail("Expecting ':' delimiter");
      this.ws();
      map.set(key, this.value());
      this.ws();
      if (this.word('}')) return new PyDict(Array.from(map));
      if (!this.word(',')) this.fail("Expecting ',' delimiter");
    }
  }
}
