/**
 * The per-ticket values an action command can use (fail2ban's `Actions.ActionInfo`): `<ip>`,
 * `<family>`, `<time>`, `<matches>`, `<F-USER>` … Each value is computed only when a command asks
 * for it, once per ActionInfo — a reverse DNS lookup or a database query for `<ipmatches>` costs
 * nothing for the commands that do not use them.
 */
import { Ticket, type TicketValue } from '../counter/ticket.js';
import { isIpAddress, rawAddress, type IpAddress } from '../shared/ip.js';
import { pyRepr, pyReprFloat, pyReprString } from '../shared/pyvalue.js';
import { LEVEL, type ServerLog } from '../system/log.js';

/** What an action needs to know about its jail. */
export interface JailView {
  readonly name: string;
  /** The jail's current ban time in seconds (`-1` permanent), for tickets without their own. */
  banTime(): number;
  /** Optional counters for `<jail.banned>`, `<jail.banned_total>`, `<jail.found>`, `<jail.found_total>`. */
  banned?(): number;
  bannedTotal?(): number;
  found?(): number;
  foundTotal?(): number;
}

/** The bans of one address merged from the database (`Fail2BanDb.getBansMerged`). */
export interface MergedBans {
  readonly matches: readonly string[];
  readonly failures: number;
}

/** Lookups behind the expensive tags. */
export interface ActionInfoPorts {
  /** Reverse DNS of an address (`<ip-host>`); null when it has no name. */
  reverseDns?(ip: string): string | null;
  /** The address's bans merged over all jails (`jail` null) or one jail; undefined: none known. */
  mergedBans?(ip: IpAddress, jail: string | null): MergedBans | undefined;
  /** Where a failing merge query is reported. */
  readonly log?: ServerLog;
}

/**
 * The family key fail2ban's actions keep their state under: `inet4`, `inet6`, null (None: a raw
 * id, not an address) or '' (an action without conditional sections).
 */
export type FamilyKey = string | null;

export interface ActionInfoOptions {
  /** How the ticket's class prints in `<raw-ticket>` (actions see ban tickets). */
  readonly kind?: 'BanTicket' | 'FailTicket';
  /** Whether the ticket's time is a Python int (restored from the database); default: `ticket.restored`. */
  readonly intTime?: boolean;
}

/** `str()` of a value kept in a ticket's data. */
export function ticketValueText(v: TicketValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isIpAddress(v)) return v.text;
  if (Array.isArray(v)) return pyRepr(v as readonly string[]);
  const items = [...(v as ReadonlySet<string>)];
  return items.length === 0 ? 'set()' : `{${items.map(pyReprString).join(', ')}}`;
}

/** `IPAddr.getPTR('')`: the reversed octets / nibbles with a trailing dot; '' for anything not an IP. */
export function ptrName(ip: IpAddress): string {
  // fail2ban splits the text, so a network keeps its `/plen` in the first label (`0/8.0.0.10.`)
  if (ip.family === 4) return ip.text.split('.').reverse().join('.') + '.';
  if (ip.family === 6) {
    const hex = ip.value.toString(16).padStart(32, '0');
    return [...hex].reverse().join('.') + '.';
  }
  return '';
}

export class ActionInfo {
  private readonly values = new Map<string, string>();
  private readonly merged = new Map<'all' | 'jail', MergedBans | undefined>();
  private fdataCache: Map<string, string> | undefined;
  private familyKey: FamilyKey;
  private readonly kind: 'BanTicket' | 'FailTicket';
  private readonly intTime: boolean;

  constructor(
    readonly ticket: Ticket,
    readonly jail: JailView,
    private readonly ports: ActionInfoPorts = {},
    options: ActionInfoOptions = {},
  ) {
    const fam = ticket.ip.family;
    this.familyKey = fam === 4 ? 'inet4' : fam === 6 ? 'inet6' : null;
    this.kind = options.kind ?? 'BanTicket';
    this.intTime = options.intTime ?? ticket.restored;
  }

  /** The "empty ticket" start/stop/flush commands see: no address, `time` = now, the given family. */
  static forOperation(jail: JailView, now: number, family: FamilyKey, ports: ActionInfoPorts = {}): ActionInfo {
    const info = new ActionInfo(new Ticket(rawAddress(''), now), jail, ports);
    info.familyKey = family;
    return info;
  }

  /** The family the action's state is kept under for this ticket. */
  get family(): FamilyKey {
    return this.familyKey;
  }

  /** The value of tag `tag` (without `<>`), or undefined when it is not a ticket tag. */
  readonly get = (tag: string): string | undefined => {
    let v = this.values.get(tag);
    if (v === undefined) {
      v = this.compute(tag);
      if (v !== undefined) this.values.set(tag, v);
    }
    return v;
  };

  /** The ticket's data for `<F-NAME>` tags, as text (keys are the group names: `user`, `fid` …). */
  get fdata(): ReadonlyMap<string, string> {
    if (this.fdataCache === undefined) {
      this.fdataCache = new Map();
      for (const [k, v] of this.ticket.data) this.fdataCache.set(k, ticketValueText(v));
    }
    return this.fdataCache;
  }

  /** The time as Python prints it: `1795313669.0`, or `1795313685` for an int time. */
  timeText(): string {
    const t = this.ticket.time;
    return this.intTime && Number.isInteger(t) ? String(t) : pyReprFloat(t);
  }

  /** `repr(ticket)`: `BanTicket: ip=… time=… bantime=… bancount=… #attempts=… matches=[…]`. */
  rawTicket(): string {
    const t = this.ticket;
    return (
      `${this.kind}: ip=${t.id.text} time=${this.timeText()} bantime=${t.banTime ?? 'None'} ` +
      `bancount=${t.banCount} #attempts=${t.attempt} matches=${pyRepr(t.matches)}`
    );
  }

  /** fail2ban's `repr(aInfo)` in error logs: the values computed so far. */
  repr(): string {
    return `ActionInfo({${[...this.values].map(([k, v]) => `${pyReprString(k)}: ${pyReprString(v)}`).join(', ')}})`;
  }

  private compute(tag: string): string | undefined {
    const t = this.ticket;
    switch (tag) {
      case 'ip': return t.ip.text;
      case 'family': return this.familyKey ?? 'None';
      case 'ip-rev': return ptrName(t.ip);
      case 'ip-host': return this.ports.reverseDns?.(t.ip.text) ?? 'None';
      case 'fid': return t.id.text;
      case 'failures': return String(t.attempt);
      case 'time': return this.timeText();
      case 'bantime': return String(Math.trunc(t.banTime ?? this.jail.banTime()));
      case 'bancount': return String(t.banCount);
      case 'matches': return t.matches.join('\n');
      case 'restored': return t.restored ? '1' : '0';
      case 'ipmatches': return (this.mergedFor('all')?.matches ?? t.matches).join('\n');
      case 'ipjailmatches': return (this.mergedFor('jail')?.matches ?? t.matches).join('\n');
      case 'ipfailures': return String(this.mergedFor('all')?.failures ?? t.attempt);
      case 'ipjailfailures': return String(this.mergedFor('jail')?.failures ?? t.attempt);
      case 'raw-ticket': return this.rawTicket();
      case 'jail.banned': return this.counter('banned');
      case 'jail.banned_total': return this.counter('bannedTotal');
      case 'jail.found': return this.counter('found');
      case 'jail.found_total': return this.counter('foundTotal');
      default: return undefined;
    }
  }

  private counter(which: 'banned' | 'bannedTotal' | 'found' | 'foundTotal'): string | undefined {
    const jail = this.jail;
    switch (which) {
      case 'banned': return jail.banned ? String(jail.banned()) : undefined;
      case 'bannedTotal': return jail.bannedTotal ? String(jail.bannedTotal()) : undefined;
      case 'found': return jail.found ? String(jail.found()) : undefined;
      case 'foundTotal': return jail.foundTotal ? String(jail.foundTotal()) : undefined;
    }
  }

  private mergedFor(idx: 'all' | 'jail'): MergedBans | undefined {
    if (this.merged.has(idx)) return this.merged.get(idx);
    let m: MergedBans | undefined;
    try {
      m = this.ports.mergedBans?.(this.ticket.ip, idx === 'all' ? null : this.jail.name);
    } catch (e) {
      this.ports.log?.log('fail2ban.actions', LEVEL.ERROR, `Failed to get ${idx} bans merged, jail '${this.jail.name}': ${e instanceof Error ? e.message : String(e)}`);
    }
    this.merged.set(idx, m);
    return m;
  }
}
