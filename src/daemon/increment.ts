/**
 * bantime.increment as the ban side uses it (fail2ban's observer `banFound` / `failureFound`),
 * per jail. The option parsing and the formula live in ban/banTimeIncrement.ts.
 */
import type { Ticket } from '../counter/ticket.js';
import type { PyValue } from '../shared/pyvalue.js';

export interface BanIncrement {
  /** `incrBanTime`: raises the ticket's ban count and time from the store's history of the id. */
  increase(jail: string, ticket: Ticket, btime: number): void;
}

/** A jail's bantime.increment: the options `set/get <jail> bantime.<opt>` change, and the increase. */
export interface JailBanIncrement extends BanIncrement {
  readonly enabled: boolean;
  /** `bantime.maxtime` in seconds, null when not set (restore correction). */
  readonly maxTime: number | null;
  setOption(opt: string, value: string): void;
  getOption(opt: string): PyValue;
}
