/**
 * fail2ban's log levels and line formats: level names (`#15-Lev.` for unnamed ones),
 * `str2LogLevel`, Python's `%(…)` record formatting and `getVerbosityFormat`.
 */
import { PortcullisError } from '../shared/errors.js';
import { LEVEL } from '../system/log.js';

/** A level fail2ban's `str2LogLevel` refuses; the message is fail2ban's. */
export class LogLevelError extends PortcullisError {
  constructor(value: string) {
    super('E_LOGLEVEL', `Invalid log level '${value}'`);
  }
}

const LEVEL_NAMES = new Map<number, string>([
  [50, 'CRITICAL'], [40, 'ERROR'], [30, 'WARNING'], [25, 'NOTICE'], [20, 'INFO'], [18, 'MSG'], [10, 'DEBUG'], [7, 'TRACE'], [5, 'HEAVY'], [0, 'NOTSET'],
]);
const LEVEL_WORDS = new Map<string, number>([...Object.entries(LEVEL), ['WARN', 30], ['FATAL', 50], ['NOTSET', 0]]);

/** Python logging's level name as fail2ban sets them up (`#15-Lev.` for unnamed levels below 50). */
export function levelName(level: number): string {
  return LEVEL_NAMES.get(level) ?? (level > 0 && level < 50 ? `#${String(level).padStart(2, '0')}-Lev.` : `Level ${level}`);
}

/** fail2ban's `str2LogLevel`: digits as a number, else a level name (any case). Throws LogLevelError. */
export function str2LogLevel(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const level = LEVEL_WORDS.get(value.toUpperCase());
  if (level === undefined) throw new LogLevelError(value);
  return level;
}

/** The record fields a `%(…)` format may use. */
interface LogRecordFields {
  readonly [key: string]: string | number;
}

/** Python's `%`-style record formatting: `%(name)-24s`, `%(process)d`, `%(thread)X`, `%(levelname)-5.5s`. */
export function formatRecord(fmt: string, rec: LogRecordFields): string {
  let parts = compiledFormats.get(fmt);
  if (parts === undefined) {
    if (compiledFormats.size > 64) compiledFormats.clear();
    compiledFormats.set(fmt, (parts = compileFormat(fmt)));
  }
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : field(p, rec);
  return out;
}

/** One `%(key)…` of a format, parsed once. */
interface FieldSpec {
  readonly key: string;
  readonly left: boolean;
  readonly width: number;
  readonly prec: number | undefined;
  readonly conv: string;
}

/** Formats parsed into literal text and fields (a server logs with one or two formats, many lines each). */
const compiledFormats = new Map<string, ReadonlyArray<string | FieldSpec>>();

function compileFormat(fmt: string): Array<string | FieldSpec> {
  const parts: Array<string | FieldSpec> = [];
  const re = /%\((\w+)\)(-?)(\d*)(?:\.(\d+))?([sdX])|%%/g;
  let last = 0;
  for (let m = re.exec(fmt); m !== null; m = re.exec(fmt)) {
    if (m.index > last) parts.push(fmt.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[0] === '%%') parts.push('%');
    else parts.push({ key: m[1] ?? '', left: m[2] === '-', width: Number(m[3] || '0'), prec: m[4] === undefined ? undefined : Number(m[4]), conv: m[5] ?? 's' });
  }
  if (last < fmt.length) parts.push(fmt.slice(last));
  return parts;
}

function field(f: FieldSpec, rec: LogRecordFields): string {
  const v = rec[f.key] ?? '';
  let text = f.conv === 'd' ? String(Math.trunc(Number(v))) : f.conv === 'X' ? Number(v).toString(16).toUpperCase() : String(v);
  if (f.prec !== undefined && f.conv === 's') text = text.slice(0, f.prec);
  return f.left ? text.padEnd(f.width) : text.padStart(f.width);
}

/** fail2ban's `getVerbosityFormat`. */
export function verbosityFormat(verbosity: number, addtime: boolean, padding: boolean): string {
  let fmt = ' %(message)s';
  if (verbosity > 1) {
    if (verbosity > 3) fmt = ' | %(module)15.15s-%(levelno)-2d: %(funcName)-20.20s |' + fmt;
    if (verbosity > 2) fmt = ' +%(relativeCreated)5d %(thread)X %(name)-25.25s %(levelname)-5.5s' + fmt;
    else {
      fmt = ' %(thread)X %(levelname)-5.5s' + fmt;
      if (addtime) fmt = ' %(asctime)-15s' + fmt;
    }
  } else {
    fmt = '%(name)-24s[%(process)d]: %(levelname)-7s' + fmt;
    if (addtime) fmt = '%(asctime)s ' + fmt;
  }
  return padding ? fmt : fmt.replace(/(?<=\))-?\d+(?:\.\d+)?s/g, 's');
}
