/**
 * Python's `fmt % mapping` (CPython `PyUnicode_Format`) for the one use fail2ban makes of it: a
 * date pattern whose directives became `%(key)s` is formatted with the names dict and the regex
 * dict. Any other `%` left in the pattern follows Python's rules, errors included.
 */
import { pyReprString } from '../shared/pyvalue.js';
import { PyFormatError } from './dateErrors.js';

const FLAG_CHARS = '-+ #0';
const INT_TYPES = 'iduoxX';
const FLOAT_TYPES = 'eEfFgG';

/** Parser state: the position in `fmt` and whether the next unkeyed conversion may take the dict. */
interface FormatState {
  pos: number;
  /** The current argument: the dict itself (`undefined`) or a keyed value; `null` once consumed. */
  arg: string | undefined | null;
}

/** `repr(dict)` of a str -> str dict in insertion order. */
export function pyReprStrDict(map: ReadonlyMap<string, string>): string {
  return '{' + [...map].map(([k, v]) => `${pyReprString(k)}: ${pyReprString(v)}`).join(', ') + '}';
}

/** `fmt % mapping`; throws {@link PyFormatError} with Python's exception class and message. */
export function pyFormatMapping(fmt: string, mapping: ReadonlyMap<string, string>): string {
  const st: FormatState = { pos: 0, arg: undefined };
  let out = '';
  while (st.pos < fmt.length) {
    const next = fmt.indexOf('%', st.pos);
    if (next < 0) return out + fmt.slice(st.pos);
    out += fmt.slice(st.pos, next);
    st.pos = next + 1;
    if (fmt[st.pos] === '%') {
      out += '%';
      st.pos++;
      continue;
    }
    out += formatOne(fmt, st, mapping);
  }
  return out;
}

/** Takes the next positional argument, as `unicode_format_getnextarg` does. */
function nextArg(st: FormatState, mapping: ReadonlyMap<string, string>): string {
  if (st.arg === null) throw new PyFormatError('TypeError', 'not enough arguments for format string');
  const value = st.arg === undefined ? pyReprStrDict(mapping) : st.arg;
  st.arg = null;
  return value;
}

/** Reads digits at the position; undefined when there are none. */
function readNumber(fmt: string, st: FormatState): number | undefined {
  const m = /^\d+/.exec(fmt.slice(st.pos));
  if (!m) return undefined;
  st.pos += m[0].length;
  return Number(m[0]);
}

/** Parses and formats one conversion starting after its `%`. */
function formatOne(fmt: string, st: FormatState, mapping: ReadonlyMap<string, string>): string {
  let keyed = false;
  if (fmt[st.pos] === '(') {
    readKey(fmt, st, mapping);
    keyed = true;
  }
  let left = false;
  while (st.pos < fmt.length && FLAG_CHARS.includes(fmt[st.pos] ?? '')) left = fmt[st.pos++] === '-' || left;
  const width = readWidth(fmt, st, mapping);
  let prec: number | undefined;
  if (fmt[st.pos] === '.') {
    st.pos++;
    prec = readWidth(fmt, st, mapping) ?? 0;
  }
  if ('hlL'.includes(fmt[st.pos] ?? '_') && st.pos < fmt.length) st.pos++;
  if (st.pos >= fmt.length) throw new PyFormatError('ValueError', 'incomplete format');
  const code = fmt.codePointAt(st.pos) ?? 0;
  const index = [...fmt.slice(0, st.pos)].length;
  st.pos += code > 0xffff ? 2 : 1;
  const text = convert(String.fromCodePoint(code), st, mapping, index, keyed);
  const cut = prec === undefined ? text : text.slice(0, prec);
  const pad = ' '.repeat(Math.max(0, (width ?? 0) - cut.length));
  return left ? cut + pad : pad + cut;
}

/** Reads `(key)` and makes the mapping's value the current argument. */
function readKey(fmt: string, st: FormatState, mapping: ReadonlyMap<string, string>): void {
  let depth = 1;
  let i = st.pos + 1;
  for (; i < fmt.length && depth > 0; i++) {
    if (fmt[i] === ')') depth--;
    else if (fmt[i] === '(') depth++;
  }
  if (depth > 0) throw new PyFormatError('ValueError', 'incomplete format key');
  const key = fmt.slice(st.pos + 1, i - 1);
  const value = mapping.get(key);
  if (value === undefined) throw new PyFormatError('KeyError', pyReprString(key));
  st.arg = value;
  st.pos = i;
}

/** A width or precision: digits, or `*` (which needs an int argument and never gets one here). */
function readWidth(fmt: string, st: FormatState, mapping: ReadonlyMap<string, string>): number | undefined {
  if (fmt[st.pos] !== '*') return readNumber(fmt, st);
  st.pos++;
  nextArg(st, mapping);
  throw new PyFormatError('TypeError', '* wants int');
}

/** Converts the argument with the conversion character `ch` (at `index` in the format). */
function convert(ch: string, st: FormatState, mapping: ReadonlyMap<string, string>, index: number, keyed: boolean): string {
  const known = 'sra' + INT_TYPES + FLOAT_TYPES + 'c';
  const value = nextArg(st, mapping);
  if (!known.includes(ch)) {
    const code = ch.codePointAt(0) ?? 0;
    const shown = code >= 31 && code <= 126 ? ch : '?';
    throw new PyFormatError('ValueError', `unsupported format character '${shown}' (0x${code.toString(16)}) at index ${index}`);
  }
  const typeName = keyed ? 'str' : 'dict';
  if (ch === 's') return value;
  if (ch === 'r' || ch === 'a') return keyed ? pyReprString(value) : value;
  if ('idu'.includes(ch)) throw new PyFormatError('TypeError', `%${ch} format: a real number is required, not ${typeName}`);
  if ('oxX'.includes(ch)) throw new PyFormatError('TypeError', `%${ch} format: an integer is required, not ${typeName}`);
  if (FLOAT_TYPES.includes(ch)) throw new PyFormatError('TypeError', `must be real number, not ${typeName}`);
  if (keyed && [...value].length === 1) return value;
  throw new PyFormatError('TypeError', '%c requires int or char');
}
