/**
 * The server (fail2ban's `Server`): the jails in creation order, the store, the log target, and
 * the operations the transmitter maps the socket commands onto — add/start/stop jails, reload,
 * ban/unban across jails, status, shutdown. Jails are assembled here from the ports (sources,
 * actions, store), so the core never touches files, sockets or processes itself.
 */
import { idKey } from '../counter/ticket.js';
import type { FilterEnv } from '../filter/filter.js';
import { extractOptions } from '../config/options.js';
import { parseIp } from '../shared/ip.js';
import { PyDict, PyTuple, type PyValue } from '../shared/pyvalue.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import { IgnoreRules, type IgnoreEnv } from './ignore.js';
import type { JailBanIncrement } from './increment.js';
import { Jail, KeyError, type JailBackend } from './jail.js';
import { JailActions } from './jailActions.js';
import { JailFilter } from './jailFilter.js';
import type { ActionFactory, LogControl, SourceFactory, StoreFactory, StorePort } from './ports.js';
import type { TrapListen } from './portTrap.js';

export interface ServerEnv {
  readonly log: ServerLog;
  readonly logControl: LogControl;
  /** fail2ban's `MyTime.time()` (seconds). */
  readonly now: () => number;
  readonly filterEnv: Omit<FilterEnv, 'warn'>;
  readonly sources: SourceFactory;
  readonly stores: StoreFactory;
  readonly actions: ActionFactory;
  readonly ignoreEnv: Omit<IgnoreEnv, 'log' | 'now'>;
  /** How port traps listen (`porttrap`); absent in tests that open no ports. */
  readonly trapListen?: TrapListen;
  /** Per jail bantime.increment (created with the jail). */
  readonly increment: (jail: string, server: Server) => JailBanIncrement;
}

/** fail2ban's exceptions as the transmitter reports them. */
export class UnknownJailError extends Error {
  constructor(readonly jail: string) {
    super(jail);
  }
}
export class DuplicateJailError extends Error {}

export class Server {
  readonly jails = new Map<string, Jail>();
  private store: StorePort | undefined;
  private readonly reloadState = new Map<string, Jail | null>();
  allowIpv6: string = 'auto';
  private quitting = false;
  /** Called once `stop` finished shutting everything down. */
  onQuit: (() => void) | undefined;

  constructor(readonly env: ServerEnv) {}

  get database(): StorePort | undefined {
    return this.store;
  }

  jail(name: string): Jail {
    const j = this.jails.get(name);
    if (!j) throw new UnknownJailError(name);
    return j;
  }

  // ---- database -------------------------------------------------------------------------

  setDatabase(filename: string): void {
    if (this.store && this.store.filename === filename) return;
    if (!this.store && filename.toLowerCase() === 'none') return;
    if (this.jails.size !== 0) throw new Error('Cannot change database when there are jails present');
    this.store?.close();
    if (filename.toLowerCase() === 'none') {
      this.store = undefined;
      return;
    }
    this.store = this.env.stores.open(filename);
    this.store.delAllJails();
  }

  // ---- jails ----------------------------------------------------------------------------

  addJail(name: string, backend: string): void {
    const [kind, args] = splitBackend(backend);
    const reloading = this.reloadState.get(name);
    if (reloading && this.jails.has(name)) {
      const jail = reloading;
      if (jail.backend === kind) {
        this.env.log.log('fail2ban.server', LEVEL.INFO, `Reload jail '${name}'`);
        this.reloadState.set(name, null);
        this.store?.addJail(name);
        return;
      }
      this.env.log.log('fail2ban.server', LEVEL.INFO, `Restart jail '${name}' (reason: '${jail.backend}' != '${kind}')`);
      this.pendingStops.push(this.delJail(name));
      this.reloadState.delete(name);
    } else if (this.jails.has(name)) {
      throw new DuplicateJailError(`The jail '${name}' already exists`);
    }
    this.jails.set(name, this.createJail(name, kind, args));
    this.store?.addJail(name);
  }

  /** Stops of replaced jails, awaited before their replacements start. */
  private pendingStops: Promise<void>[] = [];

  private createJail(name: string, backend: JailBackend, args: ReadonlyMap<string, string>): Jail {
    const env = this.env;
    env.log.log('fail2ban.jail', LEVEL.INFO, `Creating new jail '${name}'`);
    const ignore = new IgnoreRules(name, { ...env.ignoreEnv, log: env.log, now: env.now });
    const inc = env.increment(name, this);
    const actions = new JailActions(name, { log: env.log, now: env.now, store: () => this.store, increment: inc });
    const holder: { jail?: Jail } = {};
    const filter = new JailFilter(name, ignore, {
      log: env.log,
      filterEnv: env.filterEnv,
      onBan: (t) => actions.put(t),
      // the observer's failureFound: a failure of an id banned before weighs more
      onFailure: (t) => {
        if (!actions.isActive) return;
        const weight = inc.failureWeight(name, t, filter.failManager.maxRetry);
        if (weight > 1) filter.boost(t, weight - 1);
      },
    });
    const files =
      backend === 'systemd'
        ? undefined
        : env.sources.files(name, backend, () => filter.logencoding, (_path, lines, inOp) => filter.processLines(lines, inOp), {
            startTime: () => env.now() - filter.findtime,
            dateOf: (line) => filter.dateOf(line),
          });
    const journal =
      backend === 'systemd'
        ? env.sources.journal(
            name,
            args,
            () => holder.jail?.journalMatches ?? [],
            () => filter.findtime,
            (entries, inOp) => {
              for (const e of entries) filter.processEntry(e.line, e.time, inOp);
            },
          )
        : undefined;
    if (backend === 'systemd') env.log.log('fail2ban.jail', LEVEL.INFO, `Jail '${name}' uses systemd {}`);
    else {
      env.log.log('fail2ban.jail', LEVEL.INFO, backend === 'polling' ? `Jail '${name}' uses poller {}` : `Jail '${name}' uses pyinotify {}`);
      env.log.log('fail2ban.jail', LEVEL.INFO, `Initiated '${backend === 'polling' ? 'polling' : 'pyinotify'}' backend`);
    }
    holder.jail = new Jail(name, backend, args, { filter, actions, ignore, files, journal, increment: inc }, {
      log: env.log,
      now: env.now,
      store: () => this.store,
      ...(env.trapListen !== undefined ? { trapListen: env.trapListen } : {}),
    });
    return holder.jail;
  }

  async startJail(name: string): Promise<void> {
    const jail = this.jail(name);
    await Promise.all(this.pendingStops.splice(0));
    if (!jail.isAlive) {
      await jail.start();
    } else if (this.reloadState.has(name)) {
      this.env.log.log('fail2ban.server', LEVEL.INFO, `Jail '${name}' reloaded`);
      this.reloadState.delete(name);
    }
    if (jail.idle) jail.idle = false;
  }

  private async delJail(name: string): Promise<void> {
    const jail = this.jail(name);
    this.jails.delete(name);
    await jail.stop();
    this.store?.delJail(name);
  }

  /** Takes a jail that failed to configure out of the server (stopped if it had started). */
  async removeJail(name: string): Promise<void> {
    if (this.jails.has(name)) await this.delJail(name);
  }

  async stopJail(name: string): Promise<void> {
    this.jail(name);
    await this.delJail(name);
  }

  async stopAllJails(): Promise<void> {
    this.env.log.log('fail2ban.server', LEVEL.INFO, 'Stopping all jails');
    await Promise.all([...this.jails.keys()].map((n) => this.delJail(n)));
  }

  /** `stop`: stop every jail, close the store; `onQuit` then ends the process. */
  async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    this.env.log.log('fail2ban.server', LEVEL.INFO, 'Shutdown in progress...');
    await this.stopAllJails();
    if (this.store) {
      this.store.close();
      this.store = undefined;
    }
    this.onQuit?.();
  }

  get isQuitting(): boolean {
    return this.quitting;
  }

  // ---- reload ---------------------------------------------------------------------------

  async reloadBegin(name: string, opts: readonly string[]): Promise<void> {
    if (this.reloadState.size > 0 && (name === '--all' || this.reloadState.get(name))) throw new Error('Reload already in progress');
    this.env.log.log('fail2ban.server', LEVEL.INFO, 'Reload ' + (name !== '--all' ? `jail ${name}` : 'all jails'));
    if (name !== '--all') {
      if (!opts.includes('--if-exists') || this.jails.has(name)) {
        this.jail(name);
        if (opts.includes('--unban')) await this.unban(name, null);
        if (opts.includes('--restart')) await this.stopJail(name);
      }
    } else {
      if (opts.includes('--unban')) await this.unban(null, null);
      if (opts.includes('--restart')) await this.stopAllJails();
    }
    for (const [jn, jail] of this.jails) {
      if (name === '--all' || jn === name) {
        jail.idle = true;
        this.reloadState.set(jn, jail);
        resetForReload(jail);
        jail.actions.beginReload();
      }
    }
  }

  async reloadEnd(): Promise<void> {
    const gone: string[] = [];
    for (const [jn, jail] of this.jails) {
      if (this.reloadState.has(jn)) gone.push(jn);
      else await jail.actions.endReload();
    }
    for (const jn of gone) await this.delJail(jn);
    this.reloadState.clear();
    this.env.log.log('fail2ban.server', LEVEL.INFO, 'Reload finished.');
  }

  // ---- bans -----------------------------------------------------------------------------

  /**
   * `unban --all` / `unban ip…` (all jails) and `set <jail> unbanip` (one jail). `ips` null = all.
   * Returns the count; `reportAbsent` raises for ids that were not banned.
   */
  async unban(name: string | null, ips: readonly string[] | null, reportAbsent = false): Promise<number> {
    const jails = name !== null ? [this.jail(name)] : [...this.jails.values()];
    let count = 0;
    if (ips === null) {
      for (const j of jails) count += await j.actions.flushAll(true);
      return count;
    }
    const missed = new Set<string>();
    for (const j of jails) {
      const miss: string[] = [];
      count += await j.actions.unbanIps(ips, miss);
      for (const m of miss) missed.add(m);
    }
    if (reportAbsent && name !== null && missed.size > 0) throw new ValueError(`not banned: [${[...missed].map((m) => `'${m}'`).join(', ')}]`);
    return count;
  }

  /** `banned [ip…]` / `get <jail> banned [ip…]`. */
  banned(name: string | null, ids: readonly string[]): PyValue {
    const jails = name !== null ? [this.jail(name)] : [...this.jails.values()];
    const isBanned = (j: Jail, ip: string): boolean => j.actions.banManager.ticketOf(idKey(parseIp(ip))) !== undefined;
    if (name === null && ids.length > 0) return ids.map((ip) => jails.filter((j) => isBanned(j, ip)).map((j) => j.name));
    const of = (j: Jail): PyValue => {
      const lst = j.actions.banManager.tickets().map((t) => t.id.text);
      if (ids.length === 0) return lst;
      if (ids.length === 1) return isBanned(j, ids[0] as string) ? 1 : 0;
      return ids.map((ip) => (isBanned(j, ip) ? 1 : 0));
    };
    if (name !== null) return of(jails[0] as Jail);
    return jails.map((j) => new PyDict([[j.name, of(j)]]));
  }

  status(): PyValue {
    const names = [...this.jails.keys()].sort();
    return [new PyTuple(['Number of jail', this.jails.size]), new PyTuple(['Jail list', names.join(', ')])];
  }

  /** The own addresses for ignoreself are resolved by the ignore env; this is for `allowipv6`. */
  ipv6Allowed(): boolean {
    return this.allowIpv6 !== 'false' && this.allowIpv6 !== 'no' && this.allowIpv6 !== '0' && this.allowIpv6 !== 'off';
  }

  /** Purges old bans from the store (hourly timer of the process). */
  purge(): void {
    this.store?.purge(this.env.now());
  }
}

/** Python's ValueError (its text goes to the client as is). */
export class ValueError extends Error {}

function splitBackend(backend: string): [JailBackend, ReadonlyMap<string, string>] {
  const { name, options } = extractOptions(backend);
  const kind = name.trim().toLowerCase();
  if (kind === 'systemd') return ['systemd', options];
  if (kind === 'polling' || kind === 'pyinotify' || kind === 'auto') return [kind, options];
  if (kind === 'gamin') return ['polling', options];
  throw new Error(`Unknown backend ${backend}. Must be among ['pyinotify', 'gamin', 'polling', 'systemd'] or 'auto'`);
}

/** What a reload resets before the stream sets it again: regexes, ignore lists, action parameters. */
function resetForReload(jail: Jail): void {
  jail.filter.failregex.length = 0;
  jail.filter.ignoreregex.length = 0;
  jail.filter.prefregex = undefined;
  jail.filter.changed();
  jail.ignore.clear();
  jail.journalMatches.length = 0;
}

export { KeyError };
