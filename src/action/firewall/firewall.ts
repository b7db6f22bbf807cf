/**
 * The native firewall backends' one interface. A backend owns a named structure in the kernel's
 * firewall (an nftables table/chain/set and its rule, an ipset and its iptables rule, an iptables
 * chain …) per address family, created on the first ban of that family — as fail2ban starts an
 * action per family on demand — and changes the banned addresses in batches: one transaction per
 * call, whatever the number of addresses.
 *
 * Addresses arrive parsed (`IpAddress`), never as text from a log line; names come from the
 * configuration. Backends build command text only from those two, and pass it to the firewall
 * tool on its standard input, never through a shell.
 */
import { PortcullisError } from '../../shared/errors.js';
import type { IpAddress, IpFamily } from '../../shared/ip.js';

export interface FirewallEntry {
  readonly ip: IpAddress;
  /**
   * Seconds after which the kernel drops the entry by itself (sets with timeouts), as a safety net
   * should the daemon be gone at the ban's end; undefined: the entry stays until `unban`.
   */
  readonly timeoutSec?: number;
}

export interface Firewall {
  /** The backend's name as `portcullis status` shows it: `nftables`, `ipset`, `iptables`, `null`. */
  readonly kind: string;
  /** Creates the family's structure (idempotent: an existing one is kept, with its entries). */
  start(family: IpFamily): Promise<void>;
  /**
   * The family's structure exists already, made by someone else — the stock action's own
   * `actionstart`, when portcullis does only its bans natively: ban and unban use it as it is,
   * and `stop` leaves it (the action's `actionstop` removes it).
   */
  adopt(family: IpFamily): void;
  /** Gets the backend's tool ready ahead of the first change (a persistent session started); optional. */
  prepare?(): Promise<void>;
  /** Removes the structure of every started family, entries included. */
  stop(): Promise<void>;
  /** Adds every entry in one transaction, starting their families first; present entries are no error. */
  ban(entries: readonly FirewallEntry[]): Promise<void>;
  /** Removes every address in one transaction; absent addresses are no error. */
  unban(addresses: readonly IpAddress[]): Promise<void>;
  /** Empties every started family's set, keeping the structure. */
  flush(): Promise<void>;
  /** Whether the family's structure is in place (fail2ban's `actioncheck`). */
  check(family: IpFamily): Promise<boolean>;
  /** The addresses in the firewall now (consistency checks, tests). */
  list(): Promise<IpAddress[]>;
  /** Families started and not stopped since. */
  readonly families: ReadonlySet<IpFamily>;
}

/** A firewall command failed: the tool, what it was asked, and what it said. */
export class FirewallError extends PortcullisError {
  constructor(
    readonly tool: string,
    readonly input: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super('FIREWALL', `${tool} failed: ${output.trim() || 'no output'}`, options);
  }
}
