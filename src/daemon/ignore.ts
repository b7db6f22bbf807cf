/**
 * A jail's ignore rules (fail2ban's `Filter._inIgnoreIPList`), checked in fail2ban's order:
 * ignorecache → ignoreself (the host's own addresses) → single addresses → networks, host names
 * and `file:` lists → ignorecommand. The first rule that matches logs
 * `[<jail>] Ignore <ip> by <source>` and wins. Everything but the command is synchronous; the
 * command goes through the injected runner (an exit status of 0 ignores, 1 does not, anything else
 * is an error that does not ignore).
 */
import { extractOptions } from '../config/options.js';
import { ipEquals, ipInNet, parseIp, rawAddress, type IpAddress } from '../shared/ip.js';
import { LEVEL, type ServerLog } from '../system/log.js';

/** What the rules need from outside. */
export interface IgnoreEnv {
  readonly log: ServerLog;
  /** The host's own addresses (resolved `localhost`, short and full host name). */
  readonly selfIps: () => readonly IpAddress[];
  /** Name → addresses (for host names in ignoreip), cached by the resolver. */
  readonly resolve: (name: string) => readonly IpAddress[];
  /** Reads a `file:` list (one address, network or name per line, `#` comments); undefined when unreadable. */
  readonly readList: (path: string) => string | undefined;
  /** Runs the ignorecommand for an id: true = ignore, false = do not, undefined = the command failed. */
  readonly runCommand: (command: string, id: IpAddress) => Promise<boolean | undefined>;
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
    if (ip.family !== undefined && (ip.plen === 32 || ip.plen === 128)) this.singles.set(ip.text, entry);
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
   * Whether `id` is ignored. `cacheKey` is the cache key template already filled for this id
   * (the caller substitutes the tags). Synchronous unless the ignorecommand has to run.
   */
  check(id: IpAddress, cacheKey?: string): boolean | Promise<boolean> {
    const c = this.cache;
    const key = cacheKey ?? id.text;
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
      return this.env.runCommand(this.ignoreCommand, id).then((v) => {
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
    // A host name: resolved at check time (the resolver caches for 5 minutes).
    const ips = this.env.resolve(e.text);
    if (ips.length === 0) {
      this.env.log.log('fail2ban.filter', LEVEL.WARNING, `Unable to find a corresponding IP address for ${e.text}: [Errno -2] Name or service not known`);
    }
    return ips.some((a) => ipEquals(a, id)) ? 'dns' : undefined;
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
