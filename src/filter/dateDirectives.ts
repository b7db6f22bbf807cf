/**
 * The strptime-style directives of fail2ban date patterns (`strptime.timeRE` in the C locale plus
 * fail2ban's overrides) and the display names used for template names (`getTimePatternRE`).
 * Entries are in the key order of fail2ban's `timeRE` dict, which decides the alternation order of
 * the directive regex and the order of the dict's `repr`.
 */

/** Directive key -> regex; `ExY` is a placeholder replaced by {@link yearCenturyRegex}. */
const TIME_RE_ENTRIES: ReadonlyArray<readonly [string, string]> = [
  ['d', String.raw`(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`],
  ['f', String.raw`(?P<f>[0-9]{1,6})`],
  ['H', String.raw`(?P<H>[0-1]?\d|2[0-3])`],
  ['I', String.raw`(?P<I>1[0-2]|0[1-9]|[1-9])`],
  ['G', String.raw`(?P<G>\d\d\d\d)`],
  ['j', String.raw`(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`],
  ['m', String.raw`(?P<m>0?[1-9]|1[0-2])`],
  ['M', String.raw`(?P<M>[0-5]?\d)`],
  ['S', String.raw`(?P<S>[0-5]?\d|6[0-1])`],
  ['U', String.raw`(?P<U>5[0-3]|[0-4]\d|\d)`],
  ['w', String.raw`(?P<w>[0-6])`],
  ['u', String.raw`(?P<u>[1-7])`],
  ['V', String.raw`(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`],
  ['y', String.raw`(?P<y>\d\d)`],
  ['Y', String.raw`(?P<Y>\d{4})`],
  ['z', String.raw`(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`],
  ['A', String.raw`(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)`],
  ['a', String.raw`(?P<a>mon|tue|wed|thu|fri|sat|sun)`],
  ['B', String.raw`(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)`],
  ['b', String.raw`(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`],
  ['p', String.raw`(?P<p>am|pm)`],
  ['Z', String.raw`(?P<Z>Z|[A-Z]{3,5})`],
  ['%', '%'],
  ['W', String.raw`(?P<W>5[0-3]|[0-4]\d|\d)`],
  [
    'c',
    String.raw`(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)`,
  ],
  ['x', String.raw`(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`],
  ['X', String.raw`(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`],
  ['k', String.raw` ?(?P<H>[0-2]?\d)`],
  ['l', String.raw` ?(?P<I>1?\d)`],
  ['ExZ', String.raw`(?P<Z>[A-Z](?:[A-Z]{2,4})?)`],
  ['Exz', String.raw`(?P<z>(?:[A-Z](?:[A-Z]{2,4})?)?[+-][01]\d(?::?\d{2})?|[A-Z](?:[A-Z]{2,4})?)`],
  ['Exd', String.raw`(?P<d>[1-2]\d|0[1-9]|3[0-1])`],
  ['Exm', String.raw`(?P<m>0[1-9]|1[0-2])`],
  ['ExH', String.raw`(?P<H>[0-1]\d|2[0-3])`],
  ['Exk', String.raw` ?(?P<H>[0-1]?\d|2[0-3])`],
  ['Exl', String.raw` ?(?P<I>1[0-2]|\d)`],
  ['ExM', String.raw`(?P<M>[0-5]\d)`],
  ['ExS', String.raw`(?P<S>[0-5]\d|6[0-1])`],
  ['ExY', ''],
  ['Exy', String.raw`(?P<y>\d{2})`],
];

/**
 * Display names (`getTimePatternRE`): the explicit ones, then the rest. fail2ban derives `Exk`/`Exl`
 * by iterating a set, so it prints `Ex%k` or `%Exk` depending on the hash seed; we use `Ex%k`/`Ex%l`.
 */
const EXPLICIT_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['a', 'DAY'], ['A', 'DAYNAME'], ['b', 'MON'], ['B', 'MONTH'], ['d', 'Day'], ['H', '24hour'],
  ['I', '12hour'], ['j', 'Yearday'], ['m', 'Month'], ['M', 'Minute'], ['p', 'AMPM'], ['S', 'Second'],
  ['U', 'Yearweek'], ['w', 'Weekday'], ['W', 'Yearweek'], ['y', 'Year2'], ['Y', 'Year'], ['%', '%'],
  ['z', 'Zone offset'], ['f', 'Microseconds'], ['Z', 'Zone name'],
];

/** The directive regex of fail2ban (`%(%|ExZ|…|[dfH…kl])`), as a global JS regex. */
export const DIRECTIVE_RE = /%(%|ExZ|Exz|Exd|Exm|ExH|Exk|Exl|ExM|ExS|ExY|Exy|[dfHIGjmMSUwuVyYzAaBbpZ%WcxXkl])/g;

/** The directive tables for one "now" year: regexes and display names, both in dict order. */
export interface DirectiveTables {
  readonly regex: ReadonlyMap<string, string>;
  readonly names: ReadonlyMap<string, string>;
}

/** Groups 3-digit year prefixes the way fail2ban's `_getYearCentRE.grp` does. */
function groupPrefixes(items: readonly string[]): string {
  if (items.length > 1) {
    let c = commonHead(items, (s) => s.slice(0, -1));
    if (!c) c = commonHead(items, (s) => s.slice(0, 1), c === '' ? '' : undefined);
    if (c) return c + groupPrefixes(items.map((s) => s.slice(c.length)));
    return (items[0] ?? '').length > 1 ? `(?:${items.join('|')})` : `[${items.join('')}]`;
  }
  return items.join('');
}

/** The value shared by all items under `head`, else undefined (Python loop with `c` carried in). */
function commonHead(items: readonly string[], head: (s: string) => string, start?: string): string | undefined {
  let c = start;
  for (const s of items) {
    if (c === undefined || head(s) === c) c = head(s);
    else return undefined;
  }
  return c;
}

/** The `(?P<Y>…)` body of `%ExY` for a local "now" year (fail2ban computes it once at import). */
export function yearCenturyRegex(year: number): string {
  const cent = (y: number): string => String(y).slice(0, 3);
  const set = new Set<string>([cent(year - 1), cent(year + 3)]);
  for (let i = -1; i < year - 2001 + 1; i += 3) set.add(cent(2001 + i));
  const sorted = [...set].sort();
  return `(?P<Y>${groupPrefixes(sorted)}\\d)`;
}

/** Builds the directive tables for the given local year. */
export function directiveTables(year: number): DirectiveTables {
  const regex = new Map<string, string>();
  for (const [k, v] of TIME_RE_ENTRIES) regex.set(k, k === 'ExY' ? yearCenturyRegex(year) : v);
  const names = new Map<string, string>(EXPLICIT_NAMES);
  for (const [k] of TIME_RE_ENTRIES) {
    if (names.has(k)) continue;
    const base = k.startsWith('Ex') ? names.get(k.slice(2)) : undefined;
    names.set(k, base !== undefined ? 'Ex' + base : '%' + k);
  }
  return { regex, names };
}
