/**
 * The failure side of a jail (fail2ban's `Filter.processLineAndAdd` and the filter settings the
 * `set <jail> …` commands change): lines from the jail's log source go through the filter engine,
 * every failure is checked against the ignore rules, logged (`[<jail>] Found <ip> - <time>`) and
 * counted; an id that reaches maxretry is handed to the ban side. The filter engine is rebuilt
 * lazily after a setting changed (regexes are validated when they are added, as fail2ban does).
 */
import { Filter, type FilterEnv } from '../filter/filter.js';
import { FilterRegex, FilterRegexError } from '../filter/filterRegex.js';
import type { FailData, FailValue, TupleLine } from '../filter/failData.js';
import { joinTuple } from '../filter/failData.js';
import { FailManager } from '../counter/failManager.js';
import { idKey, Ticket, type TicketValue } from '../counter/ticket.js';
import { isIpAddress, parseIp, type IpAddress } from '../shared/ip.js';
import { PortcullisError } from '../shared/errors.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import { time2str } from '../shared/timefmt.js';
import type { IgnoreRules } from './ignore.js';

export interface JailFilterEnv {
  readonly log: ServerLog;
  readonly filterEnv: Omit<FilterEnv, 'warn'>;
  /** A ticket that reached maxretry. */
  readonly onBan: (ticket: Ticket) => void;
  /** Every failure that was counted (bantime.increment's `failureFound`). */
  readonly onFailure?: (ticket: Ticket) => void;
}

/** A setting that fail2ban refuses, with fail2ban's own text. */
export class FilterSettingError extends Error {}

export class JailFilter {
  readonly failManager = new FailManager();
  /** When the failure list is next cleaned up (see performSvc). */
  private nextSvcTime = 0;
  usedns = 'warn';
  prefregex: string | undefined;
  readonly failregex: string[] = [];
  readonly ignoreregex: string[] = [];
  maxlines = 1;
  datepattern: string | undefined;
  logtimezone: string | undefined;
  logencoding = 'auto';
  idle = false;
  private filter: Filter | undefined;
  /** Pending ignorecommand checks: later failures wait for earlier ones, so order is kept. */
  private chain: Promise<void> | undefined;
  private errors = 0;

  constructor(
    readonly jail: string,
    readonly ignore: IgnoreRules,
    private readonly env: JailFilterEnv,
  ) {}

  get findtime(): number {
    return this.failManager.maxTime;
  }

  set findtime(v: number) {
    this.failManager.maxTime = v;
    if (this.filter) this.filter.findtime = v;
  }

  /** Marks the engine for a rebuild (a regex, the date pattern, maxlines … changed). */
  changed(): void {
    this.filter = undefined;
  }

  /** `addfailregex`: validated now (no failure-id group → fail2ban's error text). */
  addFailRegex(regex: string): void {
    const fr = this.compile(regex, this.maxlines > 1);
    if (!fr.hasFailureId() && !(this.prefregex !== undefined && this.compile(this.prefregex, false).hasFailureId())) {
      throw new FilterSettingError(`No failure-id group in '${fr.expanded}'`);
    }
    this.failregex.push(regex);
    this.changed();
  }

  addIgnoreRegex(regex: string): void {
    this.compile(regex, false);
    this.ignoreregex.push(regex);
    this.changed();
  }

  setPrefRegex(regex: string): void {
    if (regex !== '') this.compile(regex, false);
    this.prefregex = regex === '' ? undefined : regex;
    this.changed();
  }

  /** The expanded regexes as `get <jail> failregex` shows them. */
  expanded(list: readonly string[]): string[] {
    return list.map((r) => this.compile(r, false).expanded);
  }

  private compile(regex: string, multiline: boolean): FilterRegex {
    try {
      return new FilterRegex(regex, { usedns: this.usedns, multiline });
    } catch (e) {
      if (e instanceof FilterRegexError) throw new FilterSettingError(e.pythonMessage);
      if (e instanceof PortcullisError) throw new FilterSettingError(e.message);
      throw e;
    }
  }

  private engine(): Filter {
    if (this.filter) return this.filter;
    const f = new Filter(
      {
        usedns: this.usedns,
        maxlines: this.maxlines,
        prefregex: this.prefregex,
        failregex: this.failregex,
        ignoreregex: this.ignoreregex,
        datepattern: this.datepattern,
        logtimezone: this.logtimezone,
      },
      { ...this.env.filterEnv, warn: (m) => this.env.log.log('fail2ban.filter', LEVEL.WARNING, `[${this.jail}] ${m}`) },
      { findtime: this.findtime },
    );
    this.filter = f;
    return f;
  }

  /** Jail start: the filter and its date templates compiled now, not by the first line. */
  prepare(): void {
    if (this.failregex.length > 0) this.engine().dateDetector.compileAll();
  }

  /** A line's date by the jail's date detector (the first read's seek to now - findtime). */
  dateOf(line: string): number | null {
    return this.engine().dateOf(line);
  }

  /** Lines of one source (without line ends), in order. */
  processLines(lines: readonly string[], inOperation: boolean): void {
    if (this.idle || this.failregex.length === 0) return;
    const f = this.engine();
    f.inOperation = inOperation;
    for (const line of lines) this.processLine(f, line);
  }

  /** A journal entry: the line and its date (no date detection). */
  processEntry(line: TupleLine, date: number, inOperation: boolean): void {
    if (this.idle || this.failregex.length === 0) return;
    const f = this.engine();
    f.inOperation = inOperation;
    this.processLine(f, line, date);
  }

  /**
   * A port trap's connection (`SRC=<ip> …`, dated `time`): read by the jail's failregex like a
   * journal entry; a jail without failregex counts every connection as a failure of its source.
   */
  processTrapLine(line: string, time: number): void {
    if (this.idle) return;
    if (this.failregex.length > 0) {
      this.processEntry(['', `${isoLocal(time)} `, line], time, true);
      return;
    }
    const src = /^SRC=([0-9A-Fa-f:.]+) /.exec(line)?.[1];
    const id = src === undefined ? undefined : parseIp(src);
    if (id?.family !== undefined) this.addTicket(new Ticket(id, time, [line]));
  }

  private processLine(f: Filter, line: string | TupleLine, date?: number): void {
    try {
      const failures = f.processLine(line, date);
      for (const fl of failures) {
        if (fl.fid === null || fl.time === null) continue;
        let time = fl.time;
        const now = this.env.filterEnv.now();
        if (time > now) time = now;
        this.addTicket(new Ticket(fl.fid, time, matchesOf(fl.fail), ticketData(fl.fail)));
      }
      if (this.errors) this.errors = Math.floor(this.errors / 2);
    } catch (e) {
      this.env.log.log('fail2ban.filter', LEVEL.ERROR, `Failed to process line: '${typeof line === 'string' ? line : joinTuple(line)}', caught exception: ${String(e)}`);
      if (++this.errors >= 100) {
        this.env.log.log('fail2ban.filter', LEVEL.ERROR, `Too many errors at once (${this.errors}), going idle`);
        this.errors = Math.floor(this.errors / 2);
        this.idle = true;
      }
    }
  }

  /** The ignore check, in order: while an ignorecommand runs, later failures wait behind it. */
  private addTicket(ticket: Ticket): void {
    if (this.chain) {
      this.chain = this.chain.then(async () => {
        if (!(await this.ignore.check(ticket.id, ticket))) this.count(ticket);
      });
    } else {
      const verdict = this.ignore.check(ticket.id, ticket);
      if (verdict === false) this.count(ticket);
      if (typeof verdict === 'boolean') return;
      this.chain = verdict.then((ignored) => {
        if (!ignored) this.count(ticket);
      });
    }
    const mine = this.chain;
    void mine.finally(() => {
      if (this.chain === mine) this.chain = undefined;
    });
  }

  /** Waits for pending ignorecommand checks (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.chain) await this.chain;
  }

  /** The last failure time formatted (a flood's lines share their second: formatted once). */
  private shownTime: { time: number; text: string } = { time: NaN, text: '' };

  private count(ticket: Ticket): void {
    if (ticket.time !== this.shownTime.time) this.shownTime = { time: ticket.time, text: time2str(ticket.time) };
    this.env.log.log('fail2ban.filter', LEVEL.INFO, `[${this.jail}] Found ${ticket.id.text} - ${this.shownTime.text}`);
    const attempts = this.failManager.addFailure(ticket);
    if (attempts >= this.failManager.maxRetry) this.performBan(ticket.id);
    this.env.onFailure?.(ticket);
    this.performSvc();
  }

  /**
   * fail2ban's `performSvc`: forgets failures older than findtime, at most every 5 s (the scan
   * covers the whole failure list: once per failure, a flood would make it quadratic).
   */
  private performSvc(): void {
    const now = this.env.filterEnv.now();
    if (now < this.nextSvcTime) return;
    this.nextSvcTime = now + 5;
    this.failManager.cleanup(now);
  }

  /** `set <jail> attempt <ip> [msg…]`: a manual failure (no ignore check in 1.0.2). Returns 1. */
  addAttempt(ip: string, matches: readonly string[]): number {
    const id = parseIp(ip);
    const now = this.env.filterEnv.now();
    const ticket = new Ticket(id, now, matches);
    this.env.log.log('fail2ban.filter', LEVEL.INFO, `[${this.jail}] Attempt ${id.text} - ${time2str(now)}`);
    const attempts = this.failManager.addFailure(ticket, matches.length || 1);
    if (attempts >= this.failManager.maxRetry) this.performBan(id);
    return 1;
  }

  /** Boost from bantime.increment (`addFailure(ticket, n, observed=True)`). */
  boost(ticket: Ticket, count: number): void {
    const attempts = this.failManager.addFailure(ticket, count, true);
    if (attempts >= this.failManager.maxRetry) this.performBan(ticket.id);
  }

  private performBan(id: IpAddress): void {
    const t = this.failManager.toBan(idKey(id));
    if (t) this.env.onBan(t);
  }
}

/** The matched lines of a failure as text (fail2ban keeps the first as a tuple; readers join it). */
function matchesOf(fail: FailData): string[] {
  const m = fail.get('matches');
  return Array.isArray(m) ? (m).map(joinTuple) : [];
}

/** A failure's groups as ticket data (the lines are kept as `matches`, internal entries dropped). */
function ticketData(fail: FailData): Map<string, TicketValue> {
  const out = new Map<string, TicketValue>();
  for (const [k, v] of fail) {
    if (k === 'matches' || k === 'nofail-matches' || k === 'mlfpending' || k === 'mlfgained' || k === 'nofail') continue;
    const tv = toTicketValue(v);
    if (tv !== undefined) out.set(k, tv);
  }
  return out;
}

function toTicketValue(v: FailValue): TicketValue | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (isIpAddress(v)) return v;
  if (v instanceof Set) return v;
  if (Array.isArray(v)) return (v).map(joinTuple);
  return String((v as { items: readonly unknown[] }).items.map(String).join(' '));
}

/** `YYYY-MM-DDTHH:MM:SS` in local time (the date part of a trap line, as journal entries have). */
function isoLocal(time: number): string {
  const d = new Date(Math.floor(time) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
