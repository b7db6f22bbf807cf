/**
 * fail2ban's time texts: `MyTime.seconds2str` (durations in log messages: `20s`, `1h 30m`,
 * `2w 3d 4h`), `MyTime.time2str` (local `%Y-%m-%d %H:%M:%S`) and the `get <jail> banip --with-time`
 * line built from them. Local time comes from the process time zone (the `TZ` variable), as in Python.
 */
import { pyRound } from './pymath.js';
import { PyFloat, pyReprFloat } from './pyvalue.js';

/** A Python number: int (number or bigint) or float (PyFloat; a non-integral number counts as a float too). */
export type SecondsValue = number | bigint | PyFloat;

/** The end of ban fail2ban uses for a permanent ban (`Ticket.MAX_TIME`). */
export const MAX_TIME = 0x7fffffffffff;
/** time2str shows everything from here on as the last second of year 9999. */
const LAST_SECOND = 253402214400;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function asFloat(v: SecondsValue): { value: number; isFloat: boolean } {
  if (v instanceof PyFloat) return { value: v.value, isFloat: true };
  if (typeof v === 'bigint') return { value: Number(v), isFloat: false };
  return { value: v, isFloat: !Number.isInteger(v) };
}

/** `str(int(x))` of an already integral value, or str(x) of a float. */
const pyNumStr = (x: number, isFloat: boolean): string => (isFloat ? pyReprFloat(x) : String(x));

/** `str(s)` of a Python value, where s // n and s % n keep the type (only the small branch can see floats). */
function floorDiv(a: number, b: number): number {
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) div -= 1;
  const fl = Math.floor(div);
  return div - fl > 0.5 ? fl + 1 : fl;
}

function pyMod(a: number, b: number): number {
  const mod = a % b;
  return mod !== 0 && b < 0 !== mod < 0 ? mod + b : mod;
}

/** Splits an integral count into up to three units, largest first (`2w 3d 4h`), dropping zero tails as fail2ban does. */
function groups(total: number, big: number, bigUnit: string, mid: number, midUnit: string, smallUnit: string): string {
  let s = total;
  let r = `${floorDiv(s, big)}${bigUnit} `;
  s = pyMod(s, big);
  if (s >= mid) {
    r += `${floorDiv(s, mid)}${midUnit} `;
    s = pyMod(s, mid);
  }
  if (s !== 0) r += `${s}${smallUnit} `;
  return r.slice(0, -1);
}

/**
 * `MyTime.seconds2str`: ≥1y `Xy Xw Xd` (days rounded), ≥1w `Xw Xd Xh` (hours rounded), ≥1d `Xd Xh Xm`
 * (minutes rounded), ≥3595 s `Xh Xm` (10 s rounded), else `Xm Xs`; `0` for zero. Rounding is Python's
 * round-half-even; a float below an hour keeps Python's float text (`1.0m 30.5s`).
 */
export function seconds2str(sec: SecondsValue): string {
  const { value: s, isFloat } = asFloat(sec);
  if (s >= 31536000) return groups(pyRound(s / 86400), 365, 'y', 7, 'w', 'd');
  if (s >= 604800) return groups(pyRound(s / 3600), 168, 'w', 24, 'd', 'h');
  if (s >= 86400) return groups(pyRound(s / 60), 1440, 'd', 60, 'h', 'm');
  if (s >= 3595) {
    const tens = pyRound(s / 10);
    let r = `${floorDiv(tens, 360)}h `;
    const rest = pyMod(tens, 360);
    if (rest >= 6) r += `${floorDiv(rest, 6)}m `;
    return r.slice(0, -1);
  }
  let r = '';
  let rest = s;
  if (rest >= 60) {
    r += `${pyNumStr(floorDiv(rest, 60), isFloat)}m `;
    rest = pyMod(rest, 60);
  }
  if (rest !== 0) r += `${pyNumStr(rest, isFloat)}s `;
  else if (s === 0) r = '0 ';
  return r.slice(0, -1);
}

/** The whole seconds `datetime.fromtimestamp(t).replace(microsecond=0)` keeps: microseconds rounded half-even first. */
function wholeSeconds(t: number): number {
  const intpart = Math.trunc(t);
  const micros = pyRound((t - intpart) * 1e6);
  if (micros >= 1e6) return intpart + 1;
  if (micros < 0) return intpart - 1;
  return intpart;
}

/** `MyTime.time2str`: local `YYYY-mm-dd HH:MM:SS`; from 253402214400 on, `9999-12-31 23:59:59`. */
export function time2str(epochSeconds: SecondsValue): string {
  const t = asFloat(epochSeconds).value;
  if (!(t < LAST_SECOND)) return '9999-12-31 23:59:59';
  const d = new Date(wholeSeconds(t) * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Python's `'%d' % x`: the integer part, truncated toward zero. */
function percentD(v: SecondsValue): string {
  if (typeof v === 'bigint') return v.toString();
  const x = v instanceof PyFloat ? v.value : v;
  return String(Math.trunc(x)).replace(/^-0$/, '0');
}

/**
 * One line of `get <jail> banip --with-time`: `<ip> \t<ban time> + <bantime> = <end of ban>`;
 * a permanent ban (-1) ends `9999-12-31 23:59:59`.
 */
export function banWithTimeLine(ip: string, timeOfBan: SecondsValue, banTime: SecondsValue): string {
  const start = asFloat(timeOfBan).value;
  const bt = asFloat(banTime).value;
  const end = bt === -1 ? MAX_TIME : start + bt;
  return `${ip} \t${time2str(timeOfBan)} + ${percentD(banTime)} = ${time2str(end)}`;
}
