/** The shapes BanStore takes and returns: options, a ban to store, log positions, bans read back, the history bantime.increment reads. */
import type { PyValue } from '../shared/pyvalue.js';
import type { ServerLog } from '../system/log.js';

export interface StoreOptions {
  readonly log: ServerLog;
  /** The time in seconds (fail2ban's `MyTime.time()`). */
  readonly now: () => number;
  /** A damaged file is moved aside as `<file>.corrupt-<stamp>` and a new one created (logged at ERROR) instead of refused. */
  readonly recoverCorrupt?: boolean;
}

/** A ban as `addBan` stores it; `data` is the ticket's data (a `PyDict`, `Map` or plain object). */
export interface StoredBan {
  readonly ip: string;
  /** The ticket's time in seconds (rounded as fail2ban does: `int(round(t))`). */
  readonly timeOfBan: number;
  /** Seconds; -1 permanent. */
  readonly banTime: number;
  readonly banCount: number;
  readonly data: unknown;
}

/** A row of `logs`: the first line's hash (journal: ISO date) and the position (journal: epoch). */
export interface LogPosition {
  readonly hash: string | null;
  readonly pos: number | null;
}

export interface CurrentBansQuery {
  readonly jail: string;
  /** fail2ban's `fromtime` (normally now). */
  readonly now: number;
  /** Only bans younger than this (the jail's bantime without increment); null or -1: all. */
  readonly forbantime: number | null;
  /** Longer or permanent bans are cut to this (jail bantime, or bantime.maxtime); null, 0 or -1: none. */
  readonly correctBanTime: number | null;
  /** Used for rows with bantime -2 (upgraded from before version 3); default `correctBanTime` or 600. */
  readonly jailBanTime?: number;
  /** Keep the last `maxmatches` matches (0: none); default the store's `maxMatches`. */
  readonly maxmatches?: number;
  readonly ip?: string;
}

/** A ban read back as fail2ban's `FailTicket` holds it. */
export interface DbBan {
  readonly ip: string;
  readonly timeOfBan: number;
  readonly banTime: number;
  readonly banCount: number;
  /** The ticket data (`matches`, `failures`, groups …) as stored, None values dropped. */
  readonly data: ReadonlyMap<string, PyValue>;
  /** `getMatches()`: list elements joined. */
  readonly matches: readonly string[];
  /** `getAttempt()`. */
  readonly failures: number;
}

/** What bantime.increment reads: count, time and bantime of the last ban (summed over jails for overalljails). */
export interface BanHistory {
  readonly banCount: number;
  readonly timeOfBan: number;
  readonly banTime: number;
}

/** `getBansMerged(ip)`: failures summed, matches oldest first; `timeOfBan` of the oldest row. */
export interface MergedBans {
  readonly ip: string;
  readonly timeOfBan: number;
  readonly failures: number;
  readonly matches: readonly string[];
  readonly data: ReadonlyMap<string, PyValue>;
}

export interface BanRow {
  ip: string;
  timeofban: number;
  bantime: number;
  bancount: number;
  data: Buffer | string | null;
}
