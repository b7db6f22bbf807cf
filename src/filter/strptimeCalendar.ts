/**
 * The bits of Python's `int()` and `datetime` that fail2ban's strptime relies on, with the same
 * exceptions: naive datetimes are plain numbers of seconds since 1970-01-01 (proleptic Gregorian).
 */
import { pyReprString } from '../shared/pyvalue.js';

/** A Python exception by class name and `str(e)`; callers wrap it into their typed error. */
export class PythonError extends Error {
  constructor(
    readonly pythonClass: string,
    message: string,
  ) {
    super(message);
    this.name = 'PythonError';
  }
}

const DAY = 86400;
/** `datetime.min` and `datetime.max` (whole seconds) as naive seconds. */
export const NAIVE_MIN = daysFromCivil(1, 1, 1) * DAY;
export const NAIVE_MAX = daysFromCivil(9999, 12, 31) * DAY + DAY - 1;
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** The value of a Unicode decimal digit (Nd digits come in runs of ten starting at zero). */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0) ?? 0;
  let steps = 0;
  while (/\p{Nd}/u.test(String.fromCodePoint(cp - 1)) && steps < 200) {
    cp--;
    steps++;
  }
  return steps % 10;
}

/** Python `int(text)` in base 10 (Unicode digits, `_` separators, surrounding blanks). */
export function pyInt(text: string): number {
  const body = text.replace(PY_SPACE, '');
  const m = /^([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)$/u.exec(body);
  if (!m) throw new PythonError('ValueError', `invalid literal for int() with base 10: ${pyReprString(text)}`);
  let v = 0;
  for (const ch of (m[2] ?? '').replace(/_/g, '')) v = v * 10 + (/[0-9]/.test(ch) ? Number(ch) : digitValue(ch));
  return m[1] === '-' ? -v : v;
}

/** Python's `%` (result has the sign of the divisor). */
export function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
export function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day count since 1970-01-01. */
export function civilFromDays(z0: number): { y: number; m: number; d: number } {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Days in a month of a proleptic Gregorian year. */
function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

/** The C-int conversion of an argument (PyArg "i"): None and out-of-range values raise. */
export function cInt(v: number | undefined): number {
  if (v === undefined) throw new PythonError('TypeError', "'NoneType' object cannot be interpreted as an integer");
  if (Math.abs(v) >= 2 ** 63) throw new PythonError('OverflowError', 'Python int too large to convert to C long');
  if (v > 2147483647) throw new PythonError('OverflowError', 'signed integer is greater than maximum');
  if (v < -2147483648) throw new PythonError('OverflowError', 'signed integer is less than minimum');
  return v;
}

/** `check_date_args`: year, month and day ranges. */
export function checkDate(y: number, m: number, d: number): void {
  if (y < 1 || y > 9999) throw new PythonError('ValueError', `year ${y} is out of range`);
  if (m < 1 || m > 12) throw new PythonError('ValueError', 'month must be in 1..12');
  if (d < 1 || d > daysInMonth(y, m)) throw new PythonError('ValueError', 'day is out of range for month');
}

/** `datetime(y, m, d, H, M, S)` as naive seconds, with Python's argument checks. */
export function naiveDatetime(args: ReadonlyArray<number | undefined>): number {
  const [y = 0, m = 0, d = 0, hh = 0, mi = 0, ss = 0] = args.map(cInt);
  checkDate(y, m, d);
  if (hh < 0 || hh > 23) throw new PythonError('ValueError', 'hour must be in 0..23');
  if (mi < 0 || mi > 59) throw new PythonError('ValueError', 'minute must be in 0..59');
  if (ss < 0 || ss > 59) throw new PythonError('ValueError', 'second must be in 0..59');
  return daysFromCivil(y, m, d) * DAY + hh * 3600 + mi * 60 + ss;
}

/** `dt ± timedelta` with the datetime range check. */
export function addSeconds(naive: number, seconds: number): number {
  const r = naive + seconds;
  if (r < NAIVE_MIN || r > NAIVE_MAX) throw new PythonError('OverflowError', 'date value out of range');
  return r;
}

/** `dt.replace(year, month, day)` keeping the time of day. */
export function replaceDate(naive: number, y: number, m: number, d: number): number {
  const tod = pyMod(naive, DAY);
  naiveDatetime([y, m, d]);
  return daysFromCivil(y, m, d) * DAY + tod;
}

/** The calendar fields of naive seconds. */
export function naiveFields(naive: number): { y: number; m: number; d: number } {
  return civilFromDays(Math.floor(naive / DAY));
}

/** `datetime.fromordinal(n)` (whole days) as naive seconds. */
export function fromOrdinal(n: number): number {
  cInt(n);
  if (n < 1) throw new PythonError('ValueError', 'ordinal must be >= 1');
  const days = n - 719163;
  const { y } = civilFromDays(days);
  if (y > 9999) throw new PythonError('ValueError', `year ${y} is out of range`);
  return days * DAY;
}

/** `date(y, m, d).toordinal()`. */
export function toOrdinal(y: number, m: number, d: number): number {
  naiveDatetime([y, m, d]);
  return daysFromCivil(y, m, d) + 719163;
}
