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
  return fmt.replace(/%\((\w+)\)(-?)(\d*)(?:\.(\d+))?([sdX])|%%/g, (all, key: string | undefined, left: string, width: string, prec: string | undefined, conv: string) => {
    if (all === '%%') return '%';
    const v = rec[key ?? ''] ?? '';
    let text = conv === 'd' ? String(Math.trunc(Number(v))) : conv === 'X' ? Number(v).toString(16).toUpperCase() : String(v);
    if (prec !== undefined && conv === 's') text = text.slice(0, Number(prec));
    const w = Number(width || '0');
    return left === '-' ? text.padEnd(w) : text.padStart(w);
  });
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
