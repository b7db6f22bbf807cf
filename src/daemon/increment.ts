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

/** The failure side of bantime.increment (the observer's `failureFound`). */
export interface FailureIncrement {
  /**
   * How many attempts a failure of an id banned before counts for (1, 2, 3, 5, 9 … by its ban
   * count, at most `maxRetry`); 1 when increment is off, there is no store, the id has no ban
   * history, or the failure is not newer than its last ban. Sets the ticket's ban count.
   */
  failureWeight(jail: string, ticket: Ticket, maxRetry: number): number;
}

/** A jail's bantime.increment: the options `set/get <jail> bantime.<opt>` change, and the increase. */
export interface JailBanIncrement extends BanIncrement, FailureIncrement {
  readonly enabled: boolean;
  /** `bantime.maxtime` in seconds, null when not set (restore correction). */
  readonly maxTime: number | null;
  setOption(opt: string, value: string): void;
  getOption(opt: string): PyValue;
}
