/**
 * fail2ban's `DateDetector` (datedetector.py): a stateful list of date templates that finds the date
 * of a log line (`matchTime`) and turns it into a timestamp (`getTime`).
 *
 * Selection and reordering follow 1.0.2 exactly (spec §2.6.5): the last used template is tried first
 * (anchored: whole line; otherwise only between its last start/end when the neighbouring characters
 * look the same), then the list is scanned in order with the distance rules, and the winner bubbles
 * up (`_reorderTemplate`). Per-detector state: hits, lastUsed, distance of every entry; the list
 * order; last position; first unused slot.
 *
 * Two pieces of fail2ban state live outside a detector and are injected:
 * - `template.hits` of the shared (cached) template objects, incremented by every successful
 *   `matchDate` in the process and consulted by the "next template still unused" rule. Pass one
 *   {@link TemplateHits} to all detectors of a process to model it (default: one per detector).
 * - `time.time()` for `lastUsed` (the real clock, not MyTime), via `clock`.
 *
 * Template regexes are translated once per {@link TemplateRegexCache} (src/filter/dateRegex.ts). A regex the
 * translator refuses does not fail construction: it is listed in {@link DateDetector.refused} and
 * the {@link RegexError} is thrown by `matchTime` when that template would have to be searched.
 *
 * Offsets are UTF-16 indices into the line; the neighbour-character checks compare whole code points
 * as Python does.
 */
import type { RegexError } from '../regex/index.js';
import { span1, textOf, TemplateRegexCache, type CompiledTemplateRegex, type RawMatch } from './dateRegex.js';
import { DateFlag, type DateTemplate } from './dateTemplate.js';
import { DateParseError } from './dateErrors.js';
import { groupDictToTime, type StrptimeEnv } from './strptime.js';
import { epochValue, tai64nValue } from './strptimeEpoch.js';
import { PortcullisError } from '../shared/errors.js';

/** `template.hits` of fail2ban's shared template objects, keyed by template name. */
export type TemplateHits = Map<string, number>;

/** A template's match on a line, as `matchTime` returns it. */
export interface DateMatch {
  /** Where the template sits in the detector's list after this line (after any reordering). */
  readonly index: number;
  readonly name: string;
  readonly template: DateTemplate;
  /** Start and end of the whole match (`match.start()`, `match.end()`). */
  readonly start: number;
  readonly end: number;
  /** `match.span(1)`: the part of the line that is cut out. */
  readonly span: readonly [number, number];
  /** Python's `groupdict()` (undefined = group did not take part), in definition order. */
  readonly groups: Readonly<Record<string, string | undefined>>;
  /** Text of the group an Epoch template reads (`group(1)`, or `group(2)` for `{EPOCH}` in a pattern). */
  readonly valueText: string | undefined;
}

/** A {@link DateMatch} whose groups are read from the RegExp match only when asked for (most lines hit the timestamp cache). */
class LazyDateMatch implements DateMatch {
  readonly name: string;
  readonly template: DateTemplate;
  private groupsCache: Record<string, string | undefined> | undefined;

  constructor(
    readonly index: number,
    private readonly entry: { readonly template: DateTemplate; readonly c: CompiledTemplateRegex },
    readonly start: number,
    readonly end: number,
    readonly span: readonly [number, number],
    private readonly m: RegExpExecArray,
  ) {
    this.name = entry.template.name;
    this.template = entry.template;
  }

  get groups(): Readonly<Record<string, string | undefined>> {
    if (!this.groupsCache) {
      const g: Record<string, string | undefined> = {};
      for (const name of this.entry.c.named) {
        g[name] = textOf(this.m, this.entry.c.byName.get(name));
      }
      this.groupsCache = g;
    }
    return this.groupsCache;
  }

  get valueText(): string | undefined {
    return textOf(this.m, this.entry.c.numbered.get(this.template.groupIndex ?? 1));
  }
}

/** The result of `getTime`. */
export interface DateTime {
  /** Unix seconds (fractional for Epoch templates). */
  readonly timestamp: number;
  readonly span: readonly [number, number];
  readonly match: DateMatch;
}

/** Python `IndexError` inside `matchTime` (an empty match at the very end of the line, e.g. `{NONE}` on ""). */
export class DateDetectorIndexError extends PortcullisError {
  readonly pythonClass = 'IndexError';
  constructor() {
    super('E_DATEDETECTOR', 'string index out of range');
  }
}

/** A template refused by the regex translator. */
export interface RefusedTemplate {
  readonly name: string;
  readonly regex: string;
  readonly error: RegexError;
}

/** Options of a detector. */
export interface DateDetectorOptions {
  /** Used (lazily, on the first line) when `templates` is empty, as `addDefaultTemplate()`. */
  readonly defaults?: readonly DateTemplate[];
  /** Shared `template.hits` (see module doc). */
  readonly sharedHits?: TemplateHits;
  /** `time.time()` in seconds, for `lastUsed` (the composition root passes the real clock). */
  readonly clock: () => number;
  /** Translated template regexes; share one cache between detectors to translate each regex once. */
  readonly regexCache?: TemplateRegexCache;
}

/** `DateDetectorTemplate`: a template with per-detector usage; its regex is translated on first use. */
class Entry {
  hits = 0;
  lastUsed = 0;
  distance = BIG;
  private compiled: CompiledTemplateRegex | undefined;

  constructor(
    readonly template: DateTemplate,
    private readonly cache: TemplateRegexCache,
  ) {}

  get c(): CompiledTemplateRegex {
    return (this.compiled ??= this.cache.compile(this.template.regex, this.template.groupIndex ?? 1));
  }
}

const BIG = 0x7fffffff;
const UNUSED_TIME = 300;
const ANCHORED = DateFlag.LINE_BEGIN | DateFlag.LINE_END;

/** Python `line[i]` as a code point starting at UTF-16 index `i` (negative: from the end); undefined = IndexError. */
function charAt(line: string, i: number): string | undefined {
  if (i < 0) return i === -1 && line.length > 0 ? charBefore(line, line.length) : undefined;
  if (i >= line.length) return undefined;
  return String.fromCodePoint(line.codePointAt(i) ?? 0);
}

/** Python `line[i-1:i]` for the code point ending at UTF-16 index `i` ('' at 0 or past the end). */
function charBefore(line: string, i: number): string {
  if (i <= 0 || i > line.length) return '';
  const lo = line.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = line.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return line.slice(i - 2, i);
  }
  return line.charAt(i - 1);
}

/** Python `line[i:i+1]` ('' past the end). */
function charFrom(line: string, i: number): string {
  return charAt(line, i) ?? '';
}

/** Python `str.isalnum()` for one character. */
function isAlnum(s: string | undefined): boolean {
  return s !== undefined && s !== '' && /^[\p{L}\p{N}]+$/u.test(s);
}

/** A stateful fail2ban `DateDetector`. */
export class DateDetector {
  private readonly entries: Entry[];
  private readonly defaults: readonly DateTemplate[];
  private readonly sharedHits: TemplateHits;
  private readonly clock: () => number;
  private lastPos: readonly [number, string, string] | undefined;
  private lastEndPos: readonly [number, string, string] | undefined;
  private lastTemplIdx = BIG;
  private firstUnused = 0;

  private readonly regexCache: TemplateRegexCache;

  constructor(templates: readonly DateTemplate[], opts: DateDetectorOptions) {
    this.defaults = opts.defaults ?? [];
    this.sharedHits = opts.sharedHits ?? new Map<string, number>();
    this.clock = opts.clock;
    this.regexCache = opts.regexCache ?? new TemplateRegexCache();
    this.entries = templates.map((t) => this.entry(t));
  }

  private entry(template: DateTemplate): Entry {
    return new Entry(template, this.regexCache);
  }

  /** The templates in their current order. */
  get templates(): readonly DateTemplate[] {
    return this.entries.map((e) => e.template);
  }

  /** Each template in the current order with its hits and weight (fail2ban-regex's "Date template hits"). */
  get usage(): Array<{ readonly name: string; readonly hits: number; readonly weight: number; readonly templateWeight: number; readonly pattern: string | undefined; readonly regex: string }> {
    return this.entries.map((e) => ({
      name: e.template.name, hits: e.hits, weight: DateDetector.weight(e), templateWeight: e.template.weight,
      pattern: e.template.pattern, regex: e.template.regex,
    }));
  }

  /** Templates whose regex the translator refused (defaults included once they are in use). */
  get refused(): RefusedTemplate[] {
    const list = this.entries.length > 0 ? this.entries : this.defaults.map((t) => this.entry(t));
    return list.flatMap((e) => (e.c.error ? [{ name: e.template.name, regex: e.template.regex, error: e.c.error }] : []));
  }

  /**
   * Translates every template's regex now rather than on first use (the daemon does it when a
   * jail starts, so that the first lines of a flood do not pay for it).
   */
  compileAll(): void {
    void this.refused;
  }

  /** `template.matchDate(line, pos, endpos)`: search, counting a shared hit on success. */
  private matchDate(e: Entry, line: string, pos = 0, endpos?: number): RawMatch | null {
    const re = e.c.re;
    if (!re) throw e.c.error ?? new Error('uncompiled template');
    let subject = line;
    if (endpos !== undefined && endpos < line.length) subject = line.slice(0, Math.max(0, endpos));
    const start = Math.min(Math.max(0, pos), line.length);
    if (start > subject.length) return null;
    re.lastIndex = start;
    const m = re.exec(subject);
    if (!m) return null;
    const name = e.template.name;
    this.sharedHits.set(name, (this.sharedHits.get(name) ?? 0) + 1);
    return { start: m.index, end: m.index + m[0].length, m };
  }

  private at(i: number): Entry {
    const e = this.entries[i];
    if (!e) throw new RangeError(`no template #${i}`);
    return e;
  }

  private sharedHitsOf(e: Entry | undefined): number {
    return e ? (this.sharedHits.get(e.template.name) ?? 0) : 0;
  }

  /**
   * `matchTime(line)`: the winning template and its match, or null. Updates the detector's state.
   * Throws {@link RegexError} if a template the translator refused had to be searched, and
   * {@link DateDetectorIndexError} where Python raises IndexError.
   */
  matchTime(line: string): DateMatch | null {
    if (this.entries.length === 0) for (const t of this.defaults) this.entries.push(this.entry(t));
    const n = this.entries.length;
    let match: RawMatch | null = null;
    let found: { m: RawMatch; i: number } | undefined;
    let ignoreBySearch = BIG;
    let i = this.lastTemplIdx;
    let dd: Entry | undefined;
    if (i < n) {
      dd = this.at(i);
      const lastPos = this.lastPos as readonly [number, string, string];
      const lastEnd = this.lastEndPos as readonly [number, string, string];
      if (dd.template.flags & ANCHORED) {
        match = this.matchDate(dd, line);
        ignoreBySearch = i;
      } else {
        const [distance, before, first] = lastPos;
        const [endpos, last, after] = lastEnd;
        const sameBegin = charBefore(line, distance) === before || (charFrom(line, distance) === first && !isAlnum(first));
        const sameEnd = charFrom(line, endpos) === after || (charBefore(line, endpos) === last && !isAlnum(last));
        if (sameBegin && sameEnd) {
          match = this.matchDate(dd, line, distance, endpos);
        } else {
          match = this.matchDate(dd, line);
          ignoreBySearch = i;
        }
      }
      if (match) {
        const accept = n === 1 || (dd.template.flags & ANCHORED) !== 0 || (match.start === lastPos[0] && match.end === lastEnd[0]);
        if (!accept) {
          found = { m: match, i };
          match = null;
        }
      }
    }
    if (!match) {
      for (i = 0; i < n; i++) {
        if (i === ignoreBySearch) continue;
        dd = this.at(i);
        match = this.matchDate(dd, line);
        if (!match) continue;
        const distance = match.start;
        if (i + 1 >= n) break;
        if (dd.template.flags & ANCHORED) break;
        if (distance === 0 && dd.hits !== 0 && this.sharedHitsOf(this.entries[i + 1]) === 0) break;
        if (distance > dd.distance || distance > (this.lastPos?.[0] ?? 1)) {
          if (distance < (found?.m.start ?? BIG)) found = { m: match, i };
          match = null;
          continue;
        }
        break;
      }
      if (!match && found) {
        match = found.m;
        i = found.i;
        dd = this.at(i);
      }
    }
    if (!match || !dd) return null;
    return this.win(line, match, dd, i);
  }

  /** The winner's bookkeeping (hits, positions, bubble-up) and the result. */
  private win(line: string, match: RawMatch, dd: Entry, index: number): DateMatch {
    let i = index;
    const { start: distance, end: endpos } = match;
    dd.hits += 1;
    dd.lastUsed = this.clock();
    dd.distance = distance;
    if (this.firstUnused === i) this.firstUnused += 1;
    const first = charAt(line, distance);
    if (first === undefined) throw new DateDetectorIndexError();
    this.lastPos = [distance, charBefore(line, distance), first];
    const last = charAt(line, endpos - 1);
    if (last === undefined) throw new DateDetectorIndexError();
    this.lastEndPos = [endpos, last, charFrom(line, endpos)];
    if (i !== 0 && i !== this.lastTemplIdx) i = this.reorder(i);
    this.lastTemplIdx = i;
    const span = span1(dd.c, match.m) ?? [-1, -1];
    return new LazyDateMatch(i, dd, distance, endpos, span, match.m);
  }

  /** `weight` of a `DateDetectorTemplate`. */
  private static weight(e: Entry): number {
    return (e.hits * e.template.weight) / Math.max(1, e.distance);
  }

  /** `_reorderTemplate(num)`: bubble the template up; returns its new index. */
  private reorder(num: number): number {
    const list = this.entries;
    const dd = list[num] as Entry;
    const untime = dd.lastUsed - UNUSED_TIME;
    const weight = DateDetector.weight(dd);
    let pos = this.firstUnused < num ? this.firstUnused : Math.floor(num / 2);
    const moveable = (): boolean => {
      const p = list[pos] as Entry;
      return weight > DateDetector.weight(p) || untime > p.lastUsed;
    };
    if (!moveable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!moveable()) return num;
    }
    list.splice(num, 1);
    list.splice(pos, 0, dd);
    while (this.firstUnused < list.length && (list[this.firstUnused] as Entry).hits !== 0) this.firstUnused += 1;
    return pos;
  }

  /**
   * `getTime(line, timeMatch)`: the timestamp of the line's date, or null (no match, or a
   * ValueError while parsing, which fail2ban swallows). Other Python exceptions (e.g. the KeyError
   * of an unknown zone abbreviation) are thrown as {@link DateParseError}. Without `timeMatch`,
   * `matchTime(line)` is run first (changing the state).
   */
  getTime(line: string, env: StrptimeEnv, timeMatch?: DateMatch | null): DateTime | null {
    const m = timeMatch === undefined ? this.matchTime(line) : timeMatch;
    if (!m) return null;
    let timestamp: number;
    switch (m.template.kind) {
      case 'pattern':
        try {
          timestamp = groupDictToTime(m.groups, env);
        } catch (e) {
          if (e instanceof DateParseError && e.pythonClass === 'ValueError') return null;
          throw e;
        }
        break;
      case 'epoch':
        if (m.valueText === undefined) throw new DateParseError('TypeError', "float() argument must be a string or a real number, not 'NoneType'");
        timestamp = epochValue(m.valueText, m.template.longForm ?? false);
        break;
      case 'tai64n':
        timestamp = tai64nValue(line.slice(m.span[0], m.span[1]));
        break;
    }
    return { timestamp, span: m.span, match: m };
  }
}
