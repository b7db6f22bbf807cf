/**
 * The process-local time zone as fail2ban sees it through `time.mktime` and
 * `datetime.fromtimestamp`, injected instead of read from the environment.
 */
import { daysFromCivil } from './strptimeCalendar.js';

/** A local time zone: its UTC offset, in seconds east, at an instant (Unix seconds). */
export interface LocalZone {
  offsetAt(utcSeconds: number): number;
}

/** UTC (TZ=UTC). */
export const UTC_ZONE: LocalZone = { offsetAt: () => 0 };

/** A fixed offset in seconds east. */
export function fixedZone(offsetSeconds: number): LocalZone {
  return { offsetAt: () => offsetSeconds };
}

/** An IANA zone through `Intl` (DST and historical offsets, including LMT, as in the tz database). */
export function intlZone(timeZone: string): LocalZone {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const exact = (t: number): number => {
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(new Date(t * 1000))) parts[p.type] = p.value;
    const year = parts.era === 'BC' || parts.era === 'B' ? 1 - Number(parts.year) : Number(parts.year);
    const local = daysFromCivil(year, Number(parts.month), Number(parts.day)) * 86400
      + Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second);
    return local - t;
  };
  // Offsets per UTC hour: when the offset is the same at both ends of an hour it holds for the
  // whole hour (zone transitions never come and go within one hour); otherwise computed exactly.
  const hours = new Map<number, number | null>();
  return {
    offsetAt(utcSeconds: number): number {
      const t = Math.floor(utcSeconds);
      const h = Math.floor(t / 3600);
      let o = hours.get(h);
      if (o === undefined) {
        const a = exact(h * 3600);
        o = a === exact(h * 3600 + 3599) ? a : null;
        if (hours.size >= 4096) hours.clear();
        hours.set(h, o);
      }
      return o ?? exact(t);
    },
  };
}

/** `datetime.fromtimestamp(t)`: the naive local time of an instant, as naive seconds. */
export function localNaive(zone: LocalZone, utcSeconds: number): number {
  return utcSeconds + zone.offsetAt(utcSeconds);
}

/**
 * `time.mktime` of a naive local time (tm_isdst = -1) as glibc resolves it: an ambiguous time
 * gives the earlier instant; a time in a gap is read with the offset in force before the gap.
 */
export function mktime(zone: LocalZone, naive: number): number {
  const before = zone.offsetAt(naive - 86400);
  const after = zone.offsetAt(naive + 86400);
  const tBefore = naive - before;
  const tAfter = naive - after;
  const okBefore = zone.offsetAt(tBefore) === before;
  const okAfter = zone.offsetAt(tAfter) === after;
  if (okBefore && okAfter) return Math.min(tBefore, tAfter);
  if (okBefore) return tBefore;
  if (okAfter) return tAfter;
  return tBefore;
}
