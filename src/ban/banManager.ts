/**
 * fail2ban's BanManager (server/banmanager.py): the banned ids of one jail, each until its end of
 * ban (`time + bantime`, counted from the last failure; `-1` = permanent). Tickets without their
 * own ban time follow the jail's bantime as it is *now*, so changing it moves their ends.
 *
 * Expiry is found through one min-heap of ends (never a timer per ban): `nextUnbanTime` is the
 * earliest end, `unBanList(now)` pops what expired — returned in ban order, as fail2ban's full
 * scan of its dict returns them. Entries made stale by a prolonged ban or a changed jail bantime
 * are skipped when they surface (the heap is rebuilt when the jail's bantime changes).
 */
import { idKey, MAX_TIME, type Ticket } from '../counter/ticket.js';

interface Entry {
  readonly end: number;
  readonly seq: number;
  readonly ticket: Ticket;
}

/** Why `addBanTicket` did not add a ticket. */
export interface NotAdded {
  readonly reason: 'expired' | 'already';
  /** The ticket already banned (for `already`). */
  readonly existing?: Ticket;
  /** Whether the existing ban was prolonged to the new end. */
  readonly prolonged?: boolean;
}

export class BanManager {
  private readonly list = new Map<string, { ticket: Ticket; seq: number }>();
  private heap: Entry[] = [];
  private seq = 0;
  private total = 0;
  private jailBanTime = 600;

  /** The jail's bantime (seconds; -1 permanent). Changing it moves the ends of tickets without their own. */
  get banTime(): number {
    return this.jailBanTime;
  }

  set banTime(v: number) {
    this.jailBanTime = v;
    this.rebuild();
  }

  /** "Currently banned". */
  get size(): number {
    return this.list.size;
  }

  /** "Total banned". */
  get banTotal(): number {
    return this.total;
  }

  set banTotal(v: number) {
    this.total = v;
  }

  /** The banned ticket of an id. */
  ticketOf(key: string): Ticket | undefined {
    return this.list.get(key)?.ticket;
  }

  /** The banned tickets in ban order. */
  tickets(): Ticket[] {
    return [...this.list.values()].map((e) => e.ticket);
  }

  /**
   * `addBanTicket(ticket)`: true when newly banned (its ban count is raised). A ticket whose ban
   * would already be over, or whose id is banned, is not added; in the second case a later end
   * prolongs the existing ban (its ban time grows by the time between the two tickets).
   */
  addBanTicket(ticket: Ticket, now: number): true | NotAdded {
    const end = ticket.endOfBan(this.jailBanTime);
    if (end < now) return { reason: 'expired' };
    const key = idKey(ticket.id);
    const old = this.list.get(key)?.ticket;
    if (old) {
      if (end <= old.endOfBan(this.jailBanTime)) return { reason: 'already', existing: old, prolonged: false };
      let bt = ticket.banTimeOr(this.jailBanTime);
      if (bt !== -1) {
        const diff = ticket.time - old.time;
        if (diff > 0) bt += diff;
      }
      old.banTime = bt;
      this.push(old, this.list.get(key)?.seq ?? 0);
      return { reason: 'already', existing: old, prolonged: true };
    }
    const seq = this.seq++;
    this.list.set(key, { ticket, seq });
    this.total += 1;
    ticket.banCount += 1;
    this.push(ticket, seq);
    return true;
  }

  /** A ticket's end changed outside (its own ban time was set): re-file it. */
  touch(ticket: Ticket): void {
    const e = this.list.get(idKey(ticket.id));
    if (e?.ticket === ticket) this.push(ticket, e.seq);
  }

  /** The earliest end of a ban (MAX_TIME when none, or only permanent ones). */
  get nextUnbanTime(): number {
    this.dropStale();
    return this.heap[0]?.end ?? MAX_TIME;
  }

  /** `unBanList(now, maxCount)`: the tickets whose ban is over (`now > end`), removed, in ban order. */
  unBanList(now: number, maxCount = 0x7fffffff): Ticket[] {
    const expired: Array<{ ticket: Ticket; seq: number }> = [];
    const seen = new Set<Ticket>();
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (top === undefined || !(now > top.end)) break;
      this.pop();
      // A ticket filed twice with the same end (touch without a change) is released once.
      if (seen.has(top.ticket)) continue;
      seen.add(top.ticket);
      expired.push({ ticket: top.ticket, seq: top.seq });
    }
    expired.sort((a, b) => a.seq - b.seq);
    const out: Ticket[] = [];
    for (const e of expired) {
      if (out.length >= maxCount) {
        this.push(e.ticket, e.seq);
        continue;
      }
      this.list.delete(idKey(e.ticket.id));
      out.push(e.ticket);
    }
    return out;
  }

  /** Removes one id (manual unban); returns its ticket. */
  remove(key: string): Ticket | undefined {
    const e = this.list.get(key);
    if (!e) return undefined;
    this.list.delete(key);
    return e.ticket;
  }

  /** `flushBanList()`: every ticket, the list emptied. */
  flush(): Ticket[] {
    const all = this.tickets();
    this.list.clear();
    this.heap = [];
    return all;
  }

  private isCurrent(e: Entry): boolean {
    const cur = this.list.get(idKey(e.ticket.id));
    return cur !== undefined && cur.ticket === e.ticket && e.end === e.ticket.endOfBan(this.jailBanTime);
  }

  private dropStale(): void {
    while (this.heap.length > 0 && !this.isCurrent(this.heap[0] as Entry)) this.pop();
  }

  private rebuild(): void {
    this.heap = [];
    for (const { ticket, seq } of this.list.values()) this.pushRaw(ticket, seq);
  }

  private push(ticket: Ticket, seq: number): void {
    // Stale entries (prolonged, removed or permanent bans) are dropped when the heap outgrows the list.
    if (this.heap.length > 2 * this.list.size + 64) {
      this.heap = [];
      for (const e of this.list.values()) if (e.ticket !== ticket) this.pushRaw(e.ticket, e.seq);
    }
    this.pushRaw(ticket, seq);
  }

  private pushRaw(ticket: Ticket, seq: number): void {
    const h = this.heap;
    const e: Entry = { end: ticket.endOfBan(this.jailBanTime), seq, ticket };
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, h[p] as Entry)) break;
      h[i] = h[p] as Entry;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && less(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!less(h[c] as Entry, last)) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = last;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.end < b.end || (a.end === b.end && a.seq < b.seq);
}
