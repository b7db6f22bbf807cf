/**
 * fail2ban's `Filter` line processing (filter.py `processLine`, `findFailure`, `_mergeFailure`,
 * `_ignoreLine`): the date is found and cut out of the line, the remaining text is buffered
 * (`maxlines`), checked against `prefregex`, the failregexes in order and the ignoreregexes, and
 * every match becomes a failure with its id, time and groups. Multi-line ids (`<F-MLFID>`) are
 * merged through an expiring cache. Pure apart from the injected clocks and host resolver.
 *
 * Speed: the regexes are compiled once; timestamps are parsed once per distinct date text and
 * second of "now" ({@link TimestampCache}); a line that matches nothing allocates only its tuple.
 */
import { DateDetector, type DateMatch, type TemplateHits } from './dateDetector.js';
import type { TemplateRegexCache } from './dateRegex.js';
import { buildDateTemplates, defaultDateTemplates, type DateTemplateContext } from './dateTemplates.js';
import { FilterRegex, FilterRegexError } from './filterRegex.js';
import type { PythonMatch } from '../regex/index.js';
import { linesOf, textOf, truthy, tupleLinesBuf, type FailData, type FailValue, type TupleLine } from './failData.js';
import { ExpiringCache } from './mlfidCache.js';
import type { StrptimeEnv, LocalZone } from './strptime.js';
import { CIDR_RAW, CIDR_UNSPEC, FAM_IPV4, FAM_IPV6, ipAddr, parseIp, type IpAddress } from '../shared/ip.js';
import { IP4_RE, IP6_RE } from './tagExpand.js';

export type UseDns = 'yes' | 'warn' | 'no' | 'raw';

/** Name → addresses (fail2ban's `DNSUtils.dnsToIp`); only called when `usedns` is yes or warn. */
export interface HostResolver {
  resolve(name: string): readonly IpAddress[];
}

/** One failure found on a line: `[failRegexIndex, fid, date, fail]`. `fid` null = pending (mlfid without id yet). */
export interface Failure {
  readonly index: number;
  readonly fid: IpAddress | null;
  readonly time: number | null;
  /** Python's type of the time: int (a date with a zone offset, TAI64N) or float; only its text form differs. */
  readonly intTime: boolean;
  readonly fail: FailData;
}

/** What a filter is made of (the server's `set <jail> …` commands, in the order they matter). */
export interface FilterSpec {
  readonly usedns?: string;
  readonly maxlines?: number;
  readonly prefregex?: string | undefined;
  readonly failregex: readonly string[];
  readonly ignoreregex?: readonly string[];
  /** `datepattern` value (lines), or undefined for the default templates. */
  readonly datepattern?: string | undefined;
  /** `logtimezone` (already validated). */
  readonly logtimezone?: string | undefined;
}

/** Behaviour switches (fail2ban's Filter attributes). */
export interface FilterBehaviour {
  readonly checkAllRegex?: boolean;
  readonly checkFindTime?: boolean;
  readonly returnRawHost?: boolean;
  readonly ignorePending?: boolean;
  readonly findtime?: number;
}

/** Everything from outside: clocks, zone, date templates, DNS. */
export interface FilterEnv {
  /** fail2ban's `MyTime.time()` ("now" for dates, in seconds). */
  readonly now: () => number;
  /** `time.time()`: the real clock for caches and the date detector's bookkeeping. */
  readonly realClock: () => number;
  readonly zone: LocalZone;
  readonly dates: DateTemplateContext;
  readonly regexCache?: TemplateRegexCache;
  readonly sharedHits?: TemplateHits;
  readonly resolver?: HostResolver;
  /** Warnings fail2ban logs (no date for a match, DNS used …). */
  readonly warn?: (message: string) => void;
}

const LITERAL_IP = new RegExp(`^(?:(${IP4_RE})|\\[?(${IP6_RE})\\]?)$`, 'u');

/** Parsed timestamps per template and date text, valid within one second of "now" or for good when the text has a full date. */
class TimestampCache {
  private readonly byTemplate = new Map<object, Map<string, { ts: number | null; int: boolean; sec: number }>>();
  private size = 0;

  get(template: object, text: string, sec: number): { ts: number | null; int: boolean } | undefined {
    const e = this.byTemplate.get(template)?.get(text);
    if (e === undefined || (e.sec !== sec && e.sec !== -1)) return undefined;
    return e;
  }

  set(template: object, text: string, sec: number, ts: number | null, int: boolean, stable: boolean): { ts: number | null; int: boolean } {
    if (this.size >= 4096) {
      this.byTemplate.clear();
      this.size = 0;
    }
    let m = this.byTemplate.get(template);
    if (!m) this.byTemplate.set(template, (m = new Map<string, { ts: number | null; int: boolean; sec: number }>()));
    const e = { ts, int, sec: stable ? -1 : sec };
    if (!m.has(text)) this.size++;
    m.set(text, e);
    return e;
  }
}

const STABLE_KEYS = [['Y', 'y'], ['m', 'b', 'B'], ['d']];

/** Whether a date's groups fix it without "now" (year, month and day all present). */
function isStableDate(m: DateMatch): boolean {
  if (m.template.kind !== 'pattern') return true;
  if (m.groups.z !== undefined || m.groups.Z !== undefined) return false;
  return STABLE_KEYS.every((alts) => alts.some((k) => m.groups[k] !== undefined));
}

/** A fail2ban filter's line processing. */
export class Filter {
  readonly usedns: UseDns;
  readonly maxlines: number;
  readonly prefRegex: FilterRegex | undefined;
  readonly failRegexes: readonly FilterRegex[];
  private readonly ignoreList: FilterRegex[];
  readonly dateDetector: DateDetector;
  checkAllRegex: boolean;
  checkFindTime: boolean;
  returnRawHost: boolean;
  ignorePending: boolean;
  findtime: number;
  /** A file is "in operation" once read to its end (dates far from now are then taken as now). */
  inOperation = false;
  /** Called on each ignoreregex hit (fail2ban-regex counts them). */
  onIgnoreRegex: ((index: number) => void) | undefined;

  private lineBuffer: TupleLine[] = [];
  private lastTimeText = '';
  private lastDate: number | null = null;
  private lastDateInt = false;
  private readonly mlfidCache: ExpiringCache<[number | null, FailData]>;
  private readonly env: FilterEnv;
  private readonly strptimeEnv: { now: number; zone: LocalZone; defaultTz: string | undefined };
  private readonly tsCache = new TimestampCache();
  private readonly warned = new Set<string>();
  /** The prefregex's last match (null: it did not match); kept when a line never reached it. */
  private lastPrefMatch: PythonMatch | null = null;
  /** `groupAt` index of the prefregex's `content` group (-1: none). */
  private readonly prefContent: number;
  /** The last processed line without its date (`processedLine()`). */
  private lastTuple: TupleLine = ['', '', ''];

  constructor(spec: FilterSpec, env: FilterEnv, behaviour: FilterBehaviour = {}) {
    this.env = env;
    this.usedns = normaliseUseDns(spec.usedns);
    const maxlines = spec.maxlines ?? 1;
    if (!Number.isInteger(maxlines) || maxlines <= 0) throw new RangeError(`maxlines must be a positive integer, got ${maxlines}`);
    this.maxlines = maxlines;
    const pref = spec.prefregex !== undefined && spec.prefregex !== '' ? new FilterRegex(spec.prefregex, { usedns: this.usedns }) : undefined;
    this.prefRegex = pref;
    this.prefContent = pref ? pref.groupIndex('content') : -1;
    this.failRegexes = spec.failregex.map((r) => {
      const fr = new FilterRegex(r, { usedns: this.usedns, multiline: maxlines > 1 });
      if (!fr.hasFailureId() && !pref?.hasFailureId()) {
        throw new FilterRegexError(`failregex has no failure-id group (<HOST>, <ADDR>, <F-ID> …): '${fr.expanded}'`, r, `No failure-id group in '${fr.expanded}'`);
      }
      return fr;
    });
    this.ignoreList = (spec.ignoreregex ?? []).map((r) => new FilterRegex(r, { usedns: this.usedns }));
    const templates = spec.datepattern !== undefined ? buildDateTemplates(env.dates, spec.datepattern) : [];
    this.dateDetector = new DateDetector(templates, {
      defaults: defaultDateTemplates(env.dates),
      clock: env.realClock,
      ...(env.regexCache ? { regexCache: env.regexCache } : {}),
      ...(env.sharedHits ? { sharedHits: env.sharedHits } : {}),
    });
    this.checkAllRegex = behaviour.checkAllRegex ?? false;
    this.checkFindTime = behaviour.checkFindTime ?? true;
    this.returnRawHost = behaviour.returnRawHost ?? false;
    this.ignorePending = behaviour.ignorePending ?? true;
    this.findtime = behaviour.findtime ?? 600;
    this.mlfidCache = new ExpiringCache(env.realClock, 100, 300);
    this.strptimeEnv = { now: 0, zone: env.zone, defaultTz: spec.logtimezone };
  }

  /** The ignoreregexes in order. */
  get ignoreRegexes(): readonly FilterRegex[] {
    return this.ignoreList;
  }

  /** `addIgnoreRegex(value)`: compiles and appends one more ignoreregex (throws FilterRegexError). */
  addIgnoreRegex(regex: string): void {
    this.ignoreList.push(new FilterRegex(regex, { usedns: this.usedns }));
  }

  /** The buffered lines (multi-line mode). */
  get buffer(): readonly TupleLine[] {
    return this.lineBuffer;
  }

  /** Whether the prefregex matched on its last search (fail2ban's `prefRegex.hasMatched()`). */
  get prefMatched(): boolean {
    return this.lastPrefMatch !== null;
  }

  /** The groups of the prefregex's last match, `content` included (`prefRegex.getGroups()`). */
  prefGroups(): FailData | null {
    return this.prefRegex && this.lastPrefMatch ? this.prefRegex.groups(this.lastPrefMatch) : null;
  }

  /** `processedLine()`: the last line without its date text. */
  processedLine(): string {
    return this.lastTuple[0] + this.lastTuple[2];
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.env.warn?.(message);
  }

  /** The timestamp of a date match (cached by text), or null when it does not parse. */
  private parseDate(line: string, m: DateMatch, text: string, now: number): { ts: number | null; int: boolean } {
    const sec = Math.floor(now);
    const cached = this.tsCache.get(m.template, text, sec);
    if (cached !== undefined) return cached;
    this.strptimeEnv.now = now;
    const t = this.dateDetector.getTime(line, this.strptimeEnv, m);
    const ts = t ? t.timestamp : null;
    const kind = m.template.kind;
    const int = kind === 'tai64n' || (kind === 'pattern' && (m.groups.z !== undefined || m.groups.Z !== undefined || this.strptimeEnv.defaultTz !== undefined));
    return this.tsCache.set(m.template, text, sec, ts, int, isStableDate(m));
  }

  /** The date of a line as the date detector reads it (fail2ban's `seekToTime` probe), or null. */
  dateOf(line: string): number | null {
    const m = this.dateDetector.matchTime(line);
    if (!m) return null;
    const [s, e] = m.span;
    if (s === e) return null;
    return this.parseDate(line, m, line.slice(s, e), this.env.now()).ts;
  }

  /**
   * `processLine(line)`: a line without its line end, or a tuple `(pre, dateText, msg)` with its
   * date already known (journal). Returns the failures found (possibly none).
   */
  processLine(line: string | TupleLine, date?: number): Failure[] {
    const now = this.env.now();
    let noDate = false;
    let tuple: TupleLine;
    let when: number | null = null;
    let whenInt = false;
    if (typeof line !== 'string' && date) {
      tuple = line;
      this.lastTimeText = tuple[1];
      this.lastDate = date;
      this.lastDateInt = Number.isInteger(date);
      when = date;
      whenInt = this.lastDateInt;
    } else {
      const text = typeof line === 'string' ? line : line[0] + line[1] + line[2];
      const m = this.dateDetector.matchTime(text);
      if (m) {
        const [s, e] = m.span;
        const dateText = text.slice(s, e);
        tuple = [text.slice(0, s), dateText, text.slice(e)];
        if (dateText !== '') {
          const parsed = this.parseDate(text, m, dateText, now);
          when = parsed.ts;
          whenInt = parsed.int;
          if (when !== null) {
            this.lastTimeText = dateText;
            this.lastDate = when;
            this.lastDateInt = whenInt;
          } else this.env.warn?.(`findFailure failed to parse timeText: ${dateText}`);
        } else if (this.lastDate && this.lastDate > now - 60) {
          tuple = ['', this.lastTimeText, text];
          when = this.lastDate;
          whenInt = this.lastDateInt;
        } else {
          when = now;
          whenInt = false;
        }
      } else tuple = ['', '', text];
      if (when === null) {
        noDate = true;
        if (this.lastDate && this.lastDate > now - 60) {
          tuple = ['', this.lastTimeText, text];
          when = this.lastDate;
          whenInt = this.lastDateInt;
        } else if (this.checkFindTime && this.inOperation) {
          when = now;
          whenInt = false;
        }
      }
    }
    if (this.checkFindTime && when !== null) {
      if (this.inOperation) {
        const delta = Math.trunc(when - now);
        if (Math.abs(delta) > 60) {
          this.warnOnce('simByTime', `Detected a log entry ${Math.abs(delta)}s ${delta < 0 ? 'before' : 'after'} the current time in operation mode. Treating such entries as if they just happened.`);
          when = now;
          whenInt = false;
          this.lastDate = when;
          this.lastDateInt = false;
        }
      } else if (when < now - this.findtime) {
        this.warnOnce('ignByTime', `Ignoring all log entries older than ${this.findtime}s; these are probably messages generated while fail2ban was not running.`);
        return [];
      }
    }
    this.lastTuple = tuple;
    return this.findFailure(tuple, when, noDate, whenInt);
  }

  /** `_ignoreLine`: the index of the first ignoreregex that matches, or undefined. */
  private ignoreLine(buf: string, failRegex?: FilterRegex, matched?: readonly TupleLine[], unmatched?: TupleLine[]): number | undefined {
    let text = buf;
    if (failRegex && this.maxlines > 1 && matched) text = tupleLinesBuf(matched);
    let found: number | undefined;
    for (let i = 0; i < this.ignoreRegexes.length; i++) {
      if (!(this.ignoreRegexes[i] as FilterRegex).search(text)) continue;
      found = i;
      this.onIgnoreRegex?.(i);
      if ((!this.checkAllRegex || this.maxlines > 1) && failRegex && unmatched) this.lineBuffer = unmatched;
      if (!this.checkAllRegex) break;
    }
    return found;
  }

  /** `findFailure(tupleLine, date, noDate)`. */
  findFailure(tupleLine: TupleLine, date: number | null, noDate = false, intTime = false): Failure[] {
    const list: Failure[] = [];
    const defcidr = this.usedns === 'raw' || this.returnRawHost ? CIDR_RAW : CIDR_UNSPEC;
    let orgBuffer: TupleLine[];
    if (this.maxlines > 1) {
      this.lineBuffer.push(tupleLine);
      if (this.lineBuffer.length > this.maxlines) this.lineBuffer = this.lineBuffer.slice(-this.maxlines);
      orgBuffer = this.lineBuffer;
    } else orgBuffer = this.lineBuffer = [tupleLine];
    let buf: string | null = tupleLinesBuf(orgBuffer);

    if (this.ignoreRegexes.length > 0 && this.ignoreRegexes.length < this.failRegexes.length - 2) {
      if (this.ignoreLine(buf) !== undefined) return list;
    }
    let preGroups: FailData | null = null;
    if (this.prefRegex) {
      const pm = this.prefRegex.search(buf);
      this.lastPrefMatch = pm;
      if (!pm) return list;
      preGroups = this.prefRegex.groups(pm, null, 'content');
      const repl = this.prefContent < 0 ? undefined : pm.groupAt(this.prefContent);
      if (repl !== undefined && repl !== '') {
        this.lineBuffer = [['', '', repl]];
        buf = null;
      }
    }
    for (let idx = 0; idx < this.failRegexes.length; idx++) {
      const fr = this.failRegexes[idx] as FilterRegex;
      if (buf === null) buf = tupleLinesBuf(this.lineBuffer);
      const m = fr.search(buf);
      if (!m) continue;
      let fail = fr.groups(m, preGroups);
      const { matched, unmatched } = fr.splitLines(m, buf, orgBuffer);
      if (this.ignoreRegexes.length > 0 && this.ignoreLine(buf, fr, matched, unmatched) !== undefined) {
        buf = null;
        if (!this.checkAllRegex) break;
        continue;
      }
      if (noDate) {
        this.warnOnce('noTime', `Found a match but no valid date/time found for ${JSON.stringify(tupleLine[1])}. Please try setting a custom date pattern (see man page jail.conf(5)).`);
        if (date === null && this.checkFindTime) continue;
      }
      if (!this.checkAllRegex || this.maxlines > 1) {
        this.lineBuffer = unmatched;
        buf = null;
      }
      let cidr = defcidr;
      let raw = defcidr === CIDR_RAW;
      const mlfid = textOf(fail, 'mlfid');
      if (mlfid !== null) {
        fail = this.mergeFailure(mlfid, fail, matched);
        if (truthy(fail.get('nofail')) && !this.checkAllRegex) return list;
      } else fail.set('matches', [...linesOf(fail, 'matches'), ...matched]);
      let fid: string | null = textOf(fail, 'fid');
      let ip: string | null = textOf(fail, 'ip4');
      if (ip !== null) {
        cidr = pyIntOr(textOf(fail, 'cidr'), FAM_IPV4);
        raw = true;
      } else {
        ip = textOf(fail, 'ip6');
        if (ip !== null) {
          cidr = pyIntOr(textOf(fail, 'cidr'), FAM_IPV6);
          raw = true;
        } else {
          ip = textOf(fail, 'dns');
          if (ip === null) {
            if (fid === null && mlfid === null) fid = fr.failId(m, buf ?? tupleLinesBuf(orgBuffer));
            ip = fid;
            raw = true;
          }
        }
      }
      let fids: Array<IpAddress | null>;
      if (ip === null) {
        fail.set('mlfpending', 1);
        if (!this.checkAllRegex && this.ignorePending) return list;
        fids = [null];
      } else if (raw) {
        let id: IpAddress;
        if (fid === null || fid === ip) id = ipAddr(ip, cidr);
        else {
          fail.set('ip', ipAddr(ip, cidr));
          id = ipAddr(fid, defcidr);
        }
        fids = [id];
      } else fids = this.textToIp(ip);
      if (this.checkAllRegex && mlfid !== null) fail = new Map(fail);
      for (const f of fids) list.push({ index: idx, fid: f, time: date, intTime, fail });
      if (!this.checkAllRegex) break;
    }
    return list;
  }

  /** `DNSUtils.textToIp(text, usedns)`: a literal IPv4 address, else a lookup when usedns allows. */
  private textToIp(text: string): IpAddress[] {
    const out: IpAddress[] = [];
    const m = LITERAL_IP.exec(text);
    // fail2ban's searchIP returns only the IPv4 alternative (its IPv6 branch is unreachable).
    if (m && m[1] !== undefined) {
      const ip = parseIp(m[1]);
      if (ip.family !== undefined) out.push(ip);
    }
    if ((this.usedns === 'yes' || this.usedns === 'warn') && out.length === 0 && this.env.resolver) {
      const seen = new Set<string>();
      for (const ip of this.env.resolver.resolve(text)) {
        if (seen.has(ip.text)) continue;
        seen.add(ip.text);
        out.push(ip);
      }
      if (out.length > 0 && this.usedns === 'warn') this.env.warn?.(`Determined IP using DNS Lookup: ${text} = ${out.map((i) => i.text).join(', ')}`);
    }
    return out;
  }

  /** `_mergeFailure`: combines the failure with what the same multi-line id collected before. */
  private mergeFailure(mlfid: string, current: FailData, matchedLines: readonly TupleLine[]): FailData {
    let fail = current;
    const cached = this.mlfidCache.size > 0 ? this.mlfidCache.get(mlfid) : undefined;
    let users: Set<string> | undefined;
    let flags = 0;
    if (truthy(fail.get('mlfgained'))) {
      flags |= 8 | 1;
      if (!truthy(fail.get('nofail'))) fail.set('nofail', fail.get('mlfgained') ?? null);
    } else if (truthy(fail.get('nofail'))) flags |= 1;
    const forget = fail.get('mlfforget');
    fail.delete('mlfforget');
    if (truthy(forget)) flags |= 2;
    if (cached) {
      const g = cached[1];
      users = updateUsers(g, fail.get('user'));
      if (popTruthy(g, 'nofail')) flags |= 4;
      if (popTruthy(g, 'mlfgained')) flags |= 4;
      if (flags & 8) g.delete('mlfpending');
      if ((flags & 4) === 0 && !truthy(g.get('mlfpending'))) g.delete('matches');
      for (const [k, v] of fail) if (v !== null) g.set(k, v);
      fail = g;
      if (flags & 2) this.mlfidCache.unset(mlfid);
    } else if (!(flags & 2)) {
      users = updateUsers(fail, fail.get('user'));
      this.mlfidCache.set(mlfid, [this.lastDate, fail]);
    }
    if (popTruthy(fail, 'mlfpending') || (users !== undefined && users.size > 1)) {
      fail.delete('nofail');
      fail.delete('mlfgained');
      flags &= ~(8 | 1);
    }
    if ((flags & 1) === 0) {
      const m = linesOf(fail, 'nofail-matches');
      fail.delete('nofail-matches');
      const out = [...m, ...linesOf(fail, 'matches')];
      if ((flags & 8) === 0) out.push(...matchedLines);
      fail.set('matches', out);
    } else if ((flags & 3) === 1) {
      fail.set('nofail-matches', [...linesOf(fail, 'nofail-matches'), ...matchedLines]);
    }
    return fail;
  }
}

/** `fail.pop(k, None)` and its truthiness. */
function popTruthy(fail: FailData, key: string): boolean {
  const v = fail.get(key);
  fail.delete(key);
  return truthy(v);
}

/** `_updateUsers(fail, user)`. */
function updateUsers(fail: FailData, user: FailValue | undefined): Set<string> | undefined {
  const existing = fail.get('users');
  let users = existing instanceof Set ? existing : undefined;
  if (typeof user === 'string' && user !== '') {
    if (!users || users.size === 0) {
      users = new Set<string>();
      fail.set('users', users);
    }
    users.add(user);
  }
  return users;
}

/** `int(text or default)` (Python int() of a `\d+` capture). */
function pyIntOr(text: string | null, def: number): number {
  if (text === null || text === '') return def;
  return Number.parseInt(text, 10);
}

/** `setUseDns`: lower-cased; anything unknown becomes `no` (fail2ban logs an error). */
export function normaliseUseDns(v: string | undefined): UseDns {
  if (v === undefined) return 'warn';
  const l = v.toLowerCase();
  if (l === 'yes' || l === 'warn' || l === 'no' || l === 'raw') return l;
  if (l === 'true') return 'yes';
  if (l === 'false') return 'no';
  return 'no';
}

export type { FailData, TupleLine } from './failData.js';
export type { StrptimeEnv };
