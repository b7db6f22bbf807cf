/**
 * fail2ban's FailManager (server/failmanager.py): failures per id within `findtime`, compared
 * with `maxretry` (`>=`). A later failure of a known id moves its last time and adds to its
 * count (rate-adjusted when the interval outgrew findtime); `cleanup(now)` drops ids whose last
 * failure is `findtime` or more ago; `toBan()` hands over (and forgets) an id that reached maxretry.
 * Pure: time only comes in as arguments.
 */
import type { Ticket } from './ticket.js';
import { idKey } from './ticket.js';

export class FailManager {
  private list = new Map<string, Ticket>();
  private total = 0;
  maxRetry = 3;
  /** findtime, seconds. */
  maxTime = 600;
  /** Matched lines kept per id (the last ones); 0 keeps none. */
  maxMatches = 5;

  /** "Currently failed": ids with failures. */
  get size(): number {
    return this.list.size;
  }

  /** "Total failed": every failure ever added (observer boosts and manual attempts too). */
  get failTotal(): number {
    return this.total;
  }

  set failTotal(v: number) {
    this.total = v;
  }

  /** The ticket of an id, if it has failures. */
  get(key: string): Ticket | undefined {
    return this.list.get(key);
  }

  /**
   * `addFailure(ticket, count, observed)`: returns the id's retry count afterwards. `banned`
   * marks a ban ticket (fail2ban's BanTicket), which, like an observer boost, is never added anew.
   */
  addFailure(ticket: Ticket, count = 1, observed = false, banned = false): number {
    const key = idKey(ticket.id);
    let data = this.list.get(key);
    if (data !== undefined) {
      let matches: readonly string[] | null = null;
      let attempt = 1;
      if (data !== ticket) {
        matches = this.maxMatches ? ticket.matches : null;
        attempt = ticket.attempt;
        if (attempt <= 0) attempt += 1;
      }
      data.adjustTime(ticket.time, this.maxTime);
      data.inc(matches, attempt, count);
      if (this.maxMatches) {
        const m = data.matches;
        if (m.length > this.maxMatches) data.setMatches(m.slice(-this.maxMatches));
      } else data.setMatches(null);
    } else {
      if (observed || banned) return ticket.retry;
      data = ticket;
      if (count > ticket.attempt) data.setRetry(count);
      this.list.set(key, data);
    }
    this.total += 1;
    return data.retry;
  }

  /** `cleanup(now)`: forgets ids whose last failure is at or before `now - findtime`. */
  cleanup(now: number): void {
    const limit = now - this.maxTime;
    for (const [k, t] of this.list) if (t.time <= limit) this.list.delete(k);
  }

  /** `delFailure(id)`. */
  delFailure(key: string): void {
    this.list.delete(key);
  }

  /**
   * `toBan(fid)`: the first ticket (of `key` if it has failures, else in insertion order) whose
   * retry reached maxretry, removed from the list; undefined when there is none.
   */
  toBan(key?: string): Ticket | undefined {
    const keys = key !== undefined && this.list.has(key) ? [key] : [...this.list.keys()];
    for (const k of keys) {
      const t = this.list.get(k) as Ticket;
      if (t.retry >= this.maxRetry) {
        this.list.delete(k);
        return t;
      }
    }
    return undefined;
  }
}
