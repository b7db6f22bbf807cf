/**
 * A jail's ignore rules (fail2ban's `Filter._inIgnoreIPList`), checked in fail2ban's order:
 * ignorecache → ignoreself (the host's own addresses) → single addresses → networks, host names
 * and `file:` lists → ignorecommand. The first rule that matches logs
 * `[<jail>] Ignore <ip> by <source>` and wins. Everything but the command is synchronous; the
 * command goes through the injected runner (an exit status of 0 ignores, 1 does not, anything else
 * is an error that does not ignore). A failure's ticket, when there is one, gives the command and
 * the cache key its tags (`<F-USER>` …), as fail2ban's ActionInfo does.
 */
import { extractOptions } from '../config/options.js';
import { ticketValueText } from '../action/actionInfo.js';
import type { Ticket } from '../counter/ticket.js';
import { mapTagToGroup } from '../filter/tagExpand.js';
import { ipEquals, ipInNet, parseIp, rawAddress, type IpAddress } from '../shared/ip.js';
import { LEVEL, type ServerLog } from '../system/log.js';

/** What the rules need from outside. */
export interface IgnoreEnv {
  readonly log: ServerLog;
  /** The host's own addresses (resolved `localhost`, short and full host name). */
  readonly selfIps: () => readonly IpAddress[];
  /** Name → addresses (for host names in ignoreip), cached by the resolver, which also logs a name that does not resolve. */
  readonly resolve: (name: string) => readonly IpAddress[];
  /** Reads a `file:` list (one address, network or name per line, `#` comments); undefined when unreadable. */
  readonly readList: (path: string) => string | undefined;
  /**
   * Runs the ignorecommand for an id (with the failure's ticket for `<F-…>` and the other ticket
   * tags, when the check is for a failure): true = ignore, false = do not, undefined = the command failed.
   */
  readonly runCommand: (command: string, id: IpAddress, ticket?: Ticket) => Promise<boolean | undefined>;
  /** Seconds, for the cache. */
  readonly now: () => number;
}

interface CacheOptions {
  readonly key: string;
  readonly maxCount: number;
  readonly maxTime: number;
}

/** One `ignoreip` entry as written, and what it stands for. */
interface Entry {
  readonly text: string;
  readonly ip: IpAddress;
}

export class IgnoreRules {
  ignoreSelf = true;
  ignoreCommand = '';
  private readonly singles = new Map<string, Entry>();
  private readonly others: Entry[] = [];
  private cache: { opts: CacheOptions; values: Map<string, { v: boolean; until: number }> } | undefined;
  private readonly files = new Map<string, { entries: readonly IpAddress[]; readAt: number }>();

  constructor(
    private readonly jail: string,
    private readonly env: IgnoreEnv,
  ) {}

  /** `addignoreip`: duplicates are skipped (logged at MSG), '' is ignored. */
  add(text: string): void {
    if (text === '') return;
    const ip = entryId(text);
    if (this.singles.has(ip.text) || this.others.some((e) => ipEquals(e.ip, ip) && e.ip.text === ip.text)) {
      this.env.log.log('fail2ban.filter', LEVEL.MSG, `  Ignore duplicate '${ip.text}' ('${text}'), already in ignore list`);
      return;
    }
    const entry = { text, ip };
    // a single address (IPAddr.isSingle): the whole prefix of its family, not a /32 IPv6 network
    if (ip.family !== undefined && ip.plen === (ip.family === 4 ? 32 : 128)) this.singles.set(ip.text, entry);
    else this.others.push(entry);
  }

  /** `delignoreip`: removes one entry (a ValueError-like error when absent, as fail2ban's list.remove). */
  remove(text: string): void {
    const ip = entryId(text);
    if (this.singles.delete(ip.text)) return;
    const i = this.others.findIndex((e) => e.ip.text === ip.text);
    if (i < 0) throw new IgnoreListError(`list.remove(x): x not in list`);
    this.others.splice(i, 1);
  }

  clear(): void {
    this.singles.clear();
    this.others.length = 0;
  }

  /** `get <jail> ignoreip`: networks and names first, then single addresses (fail2ban's order). */
  list(): string[] {
    return [...this.others.map((e) => e.ip.text), ...[...this.singles.values()].map((e) => e.ip.text)];
  }

  /** `set <jail> ignorecache key="…",max-count=…,max-time=…` ('' removes it). Returns the options as fail2ban's getter shows them. */
  setCache(options: CacheOptions | undefined): void {
    this.cache = options ? { opts: options, values: new Map() } : undefined;
  }

  get cacheOptions(): CacheOptions | undefined {
    return this.cache?.opts;
  }

  /**
   * Whether `id` is ignored; `ticket` is the failure being checked (its tags fill the cache key
   * and the command). Synchronous unless the ignorecommand has to run.
   */
  check(id: IpAddress, ticket?: Ticket): boolean | Promise<boolean> {
    const c = this.cache;
    const key = c ? cacheKey(c.opts.key, id, ticket) : '';
    if (c) {
      const hit = c.values.get(key);
      if (hit && hit.until > this.env.now()) return hit.v;
    }
    const remember = (v: boolean): boolean => {
      if (c) {
        if (c.values.size >= c.opts.maxCount) c.values.delete(c.values.keys().next().value as string);
        c.values.set(key, { v, until: this.env.now() + c.opts.maxTime });
      }
      return v;
    };
    if (this.ignoreSelf && this.env.selfIps().some((s) => ipEquals(s, id))) {
      this.logIgnore(id, 'ignoreself rule');
      return remember(true);
    }
    if (id.family !== undefined && this.singles.has(id.text)) {
      this.logIgnore(id, 'ip');
      return true;
    }
    for (const e of this.others) {
      const src = this.inEntry(id, e);
      if (src !== undefined) {
        this.logIgnore(id, src);
        return remember(true);
      }
    }
    if (this.ignoreCommand !== '') {
      return this.env.runCommand(this.ignoreCommand, id, ticket).then((v) => {
        if (v === true) this.logIgnore(id, 'command');
        return remember(v === true);
      });
    }
    return remember(false);
  }

  private inEntry(id: IpAddress, e: Entry): string | undefined {
    if (e.ip.family !== undefined) return ipInNet(id, e.ip) ? 'ip' : undefined;
    if (e.text.startsWith('file:')) {
      for (const net of this.fileList(e.text.slice(5))) {
        if (net.family !== undefined ? ipInNet(id, net) : this.env.resolve(net.text).some((a) => ipEquals(a, id))) return 'ip-set';
      }
      return undefined;
    }
    // A host name: resolved at check time (the resolver caches for 5 minutes and logs, as
    // fail2ban.ipdns, a name that does not resolve).
    return this.env.resolve(e.text).some((a) => ipEquals(a, id)) ? 'dns' : undefined;
  }

  /**
   * A `file:` list, parsed, read again at most once a second (as fail2ban's file sets): a check
   * per failure must not read and parse the file every time.
   */
  private fileList(path: string): readonly IpAddress[] {
    const now = this.env.now();
    const hit = this.files.get(path);
    if (hit && now - hit.readAt < 1) return hit.entries;
    const entries: IpAddress[] = [];
    for (const raw of this.env.readList(path)?.split('\n') ?? []) {
      const t = raw.replace(/#.*/, '').trim();
      if (t !== '') entries.push(parseIp(t));
    }
    this.files.set(path, { entries, readAt: now });
    return entries;
  }

  private logIgnore(id: IpAddress, source: string): void {
    this.env.log.log('fail2ban.filter', LEVEL.INFO, `[${this.jail}] Ignore ${id.text} by ${source}`);
  }
}

/**
 * The ignorecache key for one check: `<ip>` (and `<fid>`) the id, `<F-NAME>` the failure's group
 * (empty when absent), other tags as written. fail2ban shell-escapes the values it puts in (a value
 * that is not a plain word becomes a `$f2bV_…` reference, so such values share one key); here the
 * key is the values themselves.
 */
function cacheKey(template: string, id: IpAddress, ticket: Ticket | undefined): string {
  return template.replace(/<([^<>\s]+)>/g, (whole, tag: string) => {
    if (tag === 'ip' || tag === 'fid') return id.text;
    if (!tag.startsWith('F-')) return whole;
    const v = ticket?.data.get(mapTagToGroup(tag.slice(2)));
    return v === undefined ? '' : ticketValueText(v);
  });
}

/** What an ignoreip entry stands for; `file:/path` names a list, not an address (its `/` is no prefix length). */
function entryId(text: string): IpAddress {
  return text.startsWith('file:') ? rawAddress(text) : parseIp(text);
}

/** `delignoreip` of an entry that is not in the list. */
export class IgnoreListError extends Error {}

/** Parses `key="<ip>", max-count=100, max-time=5m` as fail2ban does (`extractOptions("cache[" + value + "]")`). */
export function parseIgnoreCache(text: string, seconds: (s: string) => number): CacheOptions | undefined {
  if (text.trim() === '') return undefined;
  const opts = new Map([...extractOptions(`cache[${text}]`).options].map(([k, v]) => [k.toLowerCase(), v] as const));
  return {
    key: opts.get('key') ?? '<ip>',
    maxCount: Number.parseInt(opts.get('max-count') ?? '100', 10),
    maxTime: seconds(opts.get('max-time') ?? '300'),
  };
}
