/**
 * fail2ban's `strptime.reGroupDictStrptime(found_dict)`: the named groups of a date template match
 * become a Unix timestamp. "Now" and the local zone are injected; errors carry the Python exception.
 */
import { DateParseError } from './dateErrors.js';
import {
  PythonError, addSeconds, cInt, fromOrdinal, naiveDatetime, naiveFields, pyInt, pyMod, replaceDate, toOrdinal,
} from './strptimeCalendar.js';
import { localNaive, mktime, type LocalZone } from './strptimeLocal.js';
import { zoneToOffset } from './strptimeZones.js';
import { pyReprString } from '../shared/pyvalue.js';

export { UTC_ZONE, fixedZone, intlZone, type LocalZone } from './strptimeLocal.js';
export { validateTimeZone } from './strptimeZones.js';

/** The clock and zone fail2ban would see. */
export interface StrptimeEnv {
  /** "Now" as Unix seconds (`MyTime.time()`). */
  readonly now: number;
  /** The process-local zone (`TZ`), used by `datetime.now()` and `time.mktime`. */
  readonly zone: LocalZone;
  /** `logtimezone`: applied when the line has no zone. */
  readonly defaultTz?: string | number | undefined;
}

/** The fields gathered from the groups (Python's local variables). */
interface Fields {
  year?: number; month?: number; day?: number; tzoffset?: number;
  weekday?: number; julian?: number; week?: number; weekStart?: number;
  hour: number; minute: number; second: number;
}

const A_MONTH = ['', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const F_MONTH = ['', 'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const A_WEEKDAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const F_WEEKDAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** `list.index(value)` with Python's ValueError. */
function indexIn(list: readonly string[], value: string): number {
  const i = list.indexOf(value);
  if (i < 0) throw new PythonError('ValueError', `${pyReprString(value)} is not in list`);
  return i;
}

/** The hour of `%I` with the `%p` group (missing `p` key = AM; a `p` group that did not match fails). */
function twelveHour(found: Readonly<Record<string, string | undefined>>, val: string): number {
  let hour = pyInt(val);
  if (!('p' in found)) return hour === 12 ? 0 : hour;
  const p = found.p;
  if (p === undefined) throw new PythonError('AttributeError', "'NoneType' object has no attribute 'lower'");
  const ampm = p.toLowerCase();
  if (ampm === '' || ampm === 'am') return hour === 12 ? 0 : hour;
  if (ampm === 'pm' && hour !== 12) hour += 12;
  return hour;
}

/** Reads one group into the fields, as the loop body of reGroupDictStrptime. */
function readGroup(f: Fields, key: string, val: string, found: Readonly<Record<string, string | undefined>>): void {
  switch (key) {
    case 'y': { const y = pyInt(val); f.year = y <= 2000 ? y + 2000 : y; break; }
    case 'Y': f.year = pyInt(val); break;
    case 'm': f.month = pyInt(val); break;
    case 'B': f.month = indexIn(F_MONTH, val.toLowerCase()); break;
    case 'b': f.month = indexIn(A_MONTH, val.toLowerCase()); break;
    case 'd': f.day = pyInt(val); break;
    case 'H': f.hour = pyInt(val); break;
    case 'I': f.hour = twelveHour(found, val); break;
    case 'M': f.minute = pyInt(val); break;
    case 'S': f.second = pyInt(val); break;
    case 'A': f.weekday = indexIn(F_WEEKDAY, val.toLowerCase()); break;
    case 'a': f.weekday = indexIn(A_WEEKDAY, val.toLowerCase()); break;
    case 'w': { const w = pyInt(val) - 1; f.weekday = w < 0 ? 6 : w; break; }
    case 'j': f.julian = pyInt(val); break;
    case 'U': case 'W': f.week = pyInt(val); f.weekStart = key === 'U' ? 6 : 0; break;
    case 'z': case 'Z': f.tzoffset = val === 'Z' || val === 'UTC' || val === 'GMT' ? 0 : zoneToOffset(val); break;
    default: break;
  }
}

/** `_strptime._calc_julian_from_U_or_W`. */
function julianFromWeek(year: number, week: number, weekday: number, startsMon: boolean): number {
  let first = pyMod(toOrdinal(year, 1, 1) + 6, 7);
  let dow = weekday;
  if (!startsMon) {
    first = pyMod(first + 1, 7);
    dow = pyMod(dow + 1, 7);
  }
  if (week === 0) return 1 + dow - first;
  return 1 + pyMod(7 - first, 7) + 7 * (week - 1) + dow;
}

/** Fills in a missing month/day from julian or week fields (year may change). */
function resolveJulian(f: Fields): void {
  if (f.month !== undefined && f.day !== undefined) return;
  if (f.julian === undefined && f.week !== undefined && f.weekday !== undefined) {
    f.julian = julianFromWeek(cInt(f.year), f.week, f.weekday, f.weekStart === 0);
  }
  if (f.julian === undefined) return;
  const { y, m, d } = naiveFields(fromOrdinal(f.julian - 1 + toOrdinal(cInt(f.year), 1, 1)));
  f.year = y;
  f.month = m;
  f.day = d;
}

/** reGroupDictStrptime on the groups, in their order; returns Unix seconds. */
function groupsToTime(found: Readonly<Record<string, string | undefined>>, env: StrptimeEnv): number {
  const f: Fields = { hour: 0, minute: 0, second: 0 };
  for (const [key, val] of Object.entries(found)) if (val !== undefined) readGroup(f, key, val, found);
  const now = localNaive(env.zone, env.now);
  const assumeYear = f.year === undefined;
  if (assumeYear) f.year = naiveFields(now).y;
  resolveJulian(f);
  const assumeToday = f.month === undefined && f.day === undefined;
  if (assumeToday) ({ m: f.month, d: f.day } = naiveFields(now));
  let dt = naiveDatetime([f.year, f.month, f.day, f.hour, f.minute, f.second]);
  if (f.tzoffset === undefined && env.defaultTz !== undefined) f.tzoffset = zoneToOffset(env.defaultTz);
  if (f.tzoffset !== undefined) dt = addSeconds(dt, -f.tzoffset * 60);
  if (assumeToday && dt > now) dt = addSeconds(dt, -86400);
  if (assumeYear && dt > now + 86400) dt = replaceDate(dt, (f.year ?? 0) - 1, f.month ?? 0, f.day ?? 0);
  return f.tzoffset !== undefined ? dt : mktime(env.zone, dt);
}

/**
 * The Unix time of a date template match's named groups (`undefined` = group did not take part).
 * Throws {@link DateParseError} (with fail2ban's exception class and message) where Python raises.
 */
export function groupDictToTime(found: Readonly<Record<string, string | undefined>>, env: StrptimeEnv): number {
  try {
    return groupsToTime(found, env);
  } catch (e) {
    if (e instanceof PythonError) throw new DateParseError(e.pythonClass, e.message);
    throw e;
  }
}
