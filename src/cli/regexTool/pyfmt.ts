/** Python's `str()` and `repr()` of the values a failure carries, as fail2ban-regex prints them. */
import { GroupTuple, type FailData, type FailValue } from '../../filter/failData.js';
import { isIpAddress } from '../../shared/ip.js';
import { pyReprFloat, pyReprString } from '../../shared/pyvalue.js';

/** A failure time as Python holds it: an int or a float, or None. */
export function pyTime(time: number | null, intTime: boolean): string {
  if (time === null) return 'None';
  return intTime && Number.isInteger(time) ? String(time) : pyReprFloat(time);
}

/** `repr(value)`. */
export function pyReprValue(v: FailValue | undefined): string {
  if (v === undefined || v === null) return 'None';
  if (typeof v === 'string') return pyReprString(v);
  if (typeof v === 'number') return String(v);
  if (isIpAddress(v)) return pyReprString(v.text);
  if (v instanceof GroupTuple) return v.items.length === 1 ? `(${pyReprValue(v.items[0])},)` : `(${v.items.map(pyReprValue).join(', ')})`;
  if (v instanceof Set) return v.size === 0 ? 'set()' : `{${[...v].map(pyReprString).join(', ')}}`;
  return `[${v.map((l) => `(${l.map(pyReprString).join(', ')})`).join(', ')}]`;
}

/** `str(value)`. */
export function pyStrValue(v: FailValue | undefined): string {
  if (typeof v === 'string') return v;
  if (isIpAddress(v)) return v.text;
  return pyReprValue(v);
}

/** `repr(dict)` of a failure's entries. */
export function pyReprDict(fail: FailData, skip?: string): string {
  const parts: string[] = [];
  for (const [k, v] of fail) if (k !== skip) parts.push(`${pyReprString(k)}: ${pyReprValue(v)}`);
  return `{${parts.join(', ')}}`;
}
