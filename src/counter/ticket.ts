/**
 * fail2ban's ticket (server/ticket.py `Ticket` / `FailTicket` / `BanTicket` in one class): what is
 * known about one failure id — the time of its last failure, the counting interval, the retry
 * count compared with `maxretry`, the first failure's groups and the matched lines, and once banned
 * its own ban time and ban count. Pure data with fail2ban's update rules; no clock of its own.
 */
import type { IpAddress } from '../shared/ip.js';
import { pyRound } from '../shared/pymath.js';

/** End of a permanent ban (fail2ban's `Ticket.MAX_TIME`). */
export const MAX_TIME = 0x7fffffffffff;

/** Ticket flags. */
export const RESTORED = 0x01;
export const BANNED = 0x08;

/** A value kept in a ticket's data (a regex group's text, the matches, the failure count …). */
export type TicketValue = string | number | boolean | readonly string[] | IpAddress | ReadonlySet<string>;

/** The key fail2ban's dicts use for an id (`IPAddr` hashes address and family; raw ids by text). */
export function idKey(id: IpAddress): string {
  return id.family === undefined ? `raw:${id.text}` : id.text;
}

export class Ticket {
  /** Time of the last failure (fail tickets) / the time the ban counts from (ban tickets). */
  time: number;
  /** Start of the counting interval. */
  firstTime: number;
  /** The count compared with `maxretry` (normally the failures; rate-adjusted, or raised by bantime.increment). */
  retry: number;
  /** Own ban time; null = the jail's bantime at the time it is evaluated. */
  banTime: number | null = null;
  banCount = 0;
  flags = 0;
  /** `matches` (lines), `failures` (attempts) and every group of the first failure that took part. */
  readonly data = new Map<string, TicketValue>();

  constructor(
    readonly id: IpAddress,
    time: number,
    matches: readonly string[] = [],
    data?: ReadonlyMap<string, TicketValue | null | undefined>,
  ) {
    this.time = time;
    this.firstTime = time;
    this.data.set('matches', matches);
    this.data.set('failures', 0);
    if (data) for (const [k, v] of data) if (v !== null && v !== undefined) this.data.set(k, v);
    const f = this.data.get('failures');
    this.retry = typeof f === 'number' ? f : 1;
  }

  /** `getIP()`: the `ip` group when the regex had both an id and a host, else the id. */
  get ip(): IpAddress {
    const ip = this.data.get('ip');
    return typeof ip === 'object' && ip !== null && 'plen' in ip ? ip : this.id;
  }

  /** `getAttempt()`: the failures counted so far. */
  get attempt(): number {
    const f = this.data.get('failures');
    return typeof f === 'number' ? f : 0;
  }

  set attempt(v: number) {
    this.data.set('failures', v);
  }

  /** `getMatches()`: the matched lines (an absent list is empty). */
  get matches(): readonly string[] {
    const m = this.data.get('matches');
    return Array.isArray(m) ? (m as readonly string[]) : [];
  }

  /** `setMatches(list)`: null drops the key. */
  setMatches(m: readonly string[] | null): void {
    if (m === null) this.data.delete('matches');
    else this.data.set('matches', m);
  }

  get restored(): boolean {
    return (this.flags & RESTORED) !== 0;
  }

  set restored(v: boolean) {
    this.flags = v ? this.flags | RESTORED : this.flags & ~RESTORED;
  }

  get banned(): boolean {
    return (this.flags & BANNED) !== 0;
  }

  set banned(v: boolean) {
    this.flags = v ? this.flags | BANNED : this.flags & ~BANNED;
  }

  /** `getBanTime(default)`. */
  banTimeOr(jailBanTime: number): number {
    return this.banTime ?? jailBanTime;
  }

  /** `getEndOfBanTime(default)`: `MAX_TIME` for a permanent ban. */
  endOfBan(jailBanTime: number): number {
    const bt = this.banTimeOr(jailBanTime);
    return bt === -1 ? MAX_TIME : this.time + bt;
  }

  /** `isTimedOut(now, default)`: strictly after the end of the ban; never for a permanent one. */
  isTimedOut(now: number, jailBanTime: number): boolean {
    const bt = this.banTimeOr(jailBanTime);
    return bt !== -1 && now > this.time + bt;
  }

  /** `setBanCount(v, always)`: only raises the count unless `always`. */
  setBanCount(v: number, always = false): void {
    if (always || v > this.banCount) this.banCount = v;
  }

  /** `setRetry(v)`: an artificial retry count (bantime.increment); 0 also clears the failures. */
  setRetry(v: number): void {
    this.retry = v;
    if (!this.attempt) this.attempt = 1;
    if (!v) {
      this.attempt = 0;
      this.data.set('matches', []);
    }
  }

  /**
   * `adjustTime(t, findtime)`: a later failure moves the last time; if the interval grew beyond
   * `findtime`, the retry count is scaled to the rate over the old interval (Python's round).
   */
  adjustTime(t: number, findtime: number): void {
    if (t <= this.time) return;
    if (this.firstTime < t - findtime) {
      this.retry = Math.trunc(pyRound((this.retry / (t - this.firstTime)) * findtime));
      this.firstTime = t - findtime;
    }
    this.time = t;
  }

  /** `inc(matches, attempt, count)`. */
  inc(matches: readonly string[] | null, attempt = 1, count = 1): void {
    this.retry += count;
    this.attempt = this.attempt + attempt;
    if (matches && matches.length > 0) {
      const old = this.matches;
      this.data.set('matches', old.length > 0 ? [...old, ...matches] : matches);
    }
  }
}
