/**
 * One jail: its log source, the failure side (JailFilter), the ban side (JailActions) and its
 * ignore rules, started and stopped together (fail2ban's `Jail`). At start the actions start,
 * then bans still running in the store are restored (§2.7), then the source begins reading.
 */
import { parseIp } from '../shared/ip.js';
import { PyTuple, type PyValue } from '../shared/pyvalue.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import type { IgnoreRules } from './ignore.js';
import type { JailBanIncrement } from './increment.js';
import type { JailActions } from './jailActions.js';
import type { JailFilter } from './jailFilter.js';
import type { ConfiguredAction, FileSourcePort, JournalSourcePort, StorePort } from './ports.js';
import { parsePortTrap, PortTrap, trapAddressText, type PortTrapEnv } from './portTrap.js';

export type JailBackend = 'auto' | 'polling' | 'pyinotify' | 'systemd';

export interface JailParts {
  readonly filter: JailFilter;
  readonly actions: JailActions;
  readonly ignore: IgnoreRules;
  readonly files: FileSourcePort | undefined;
  readonly journal: JournalSourcePort | undefined;
  readonly increment: JailBanIncrement;
}

export interface JailEnv {
  readonly log: ServerLog;
  readonly now: () => number;
  readonly store: () => StorePort | undefined;
  /** How a port trap listens (absent: `porttrap` is refused). */
  readonly trapListen?: PortTrapEnv['listen'];
}

export class Jail {
  readonly filter: JailFilter;
  readonly actions: JailActions;
  readonly ignore: IgnoreRules;
  readonly files: FileSourcePort | undefined;
  readonly journal: JournalSourcePort | undefined;
  /** `journalmatch` groups (each a list of `FIELD=value` tokens), for the systemd backend. */
  readonly journalMatches: string[][] = [];
  readonly increment: JailBanIncrement;
  /** The port trap (`porttrap`, a portcullis extension), if set. */
  private trap: PortTrap | undefined;
  private alive = false;

  constructor(
    readonly name: string,
    readonly backend: JailBackend,
    readonly backendArgs: ReadonlyMap<string, string>,
    parts: JailParts,
    private readonly env: JailEnv,
  ) {
    this.filter = parts.filter;
    this.actions = parts.actions;
    this.ignore = parts.ignore;
    this.files = parts.files;
    this.journal = parts.journal;
    this.increment = parts.increment;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get idle(): boolean {
    return this.filter.idle;
  }

  set idle(v: boolean) {
    this.filter.idle = v;
  }

  action(name: string): ConfiguredAction {
    const a = this.actions.actions.get(name);
    if (!a) throw new KeyError(name);
    return a as ConfiguredAction;
  }

  async start(): Promise<void> {
    this.alive = true;
    await this.actions.start();
    this.restoreBans();
    this.filter.prepare();
    if (this.files) this.files.start();
    if (this.journal) this.journal.start();
    if (this.trap) await this.trap.start();
    this.env.log.log('fail2ban.jail', LEVEL.INFO, `Jail '${this.name}' started`);
  }

  /** Bans still running in the store, banned again (norestored actions skip them). */
  private restoreBans(): void {
    const store = this.env.store();
    if (!store) return;
    const jailBantime = this.actions.banManager.banTime;
    const inc = this.increment.enabled;
    const forbantime = inc ? null : jailBantime;
    const correct = inc ? this.increment.maxTime : jailBantime;
    const now = this.env.now();
    let rows;
    try {
      rows = store.getCurrentBans({ jail: this.name, now, forbantime, correctBanTime: correct, maxmatches: this.filter.failManager.maxMatches });
    } catch (e) {
      this.env.log.log('fail2ban.jail', LEVEL.ERROR, `Failed to restore banned IPs of jail '${this.name}': ${String(e)}`);
      return;
    }
    for (const row of rows) {
      const id = parseIp(row.ip);
      const verdict = this.ignore.check(id);
      if (verdict === true) continue;
      const t = this.actions.restoreTicket(id, row.timeOfBan, row.banTime, row.banCount, row.data);
      if (t.banTime !== -1 && t.time + (t.banTime ?? jailBantime) <= now) continue;
      if (verdict === false) this.actions.put(t);
      else void verdict.then((ignored) => (ignored ? undefined : this.actions.put(t)));
    }
  }

  /** Stops reading, flushes the bans (the store keeps them, so they come back at start) and stops the actions. */
  async stop(): Promise<void> {
    if (this.files) this.files.stop();
    if (this.journal) this.journal.stop();
    if (this.trap) await this.trap.stop();
    await this.filter.settled();
    await this.actions.stop();
    this.alive = false;
    this.env.log.log('fail2ban.jail', LEVEL.INFO, `Jail '${this.name}' stopped`);
  }

  /** The trap's addresses as set (`get JAIL porttrap`), empty without a trap. */
  get portTrap(): string[] {
    return (this.trap?.addresses ?? []).map(trapAddressText);
  }

  /** `set JAIL porttrap VALUE`: replaces the trap (an empty value removes it); a running jail reopens its ports. */
  async setPortTrap(value: string): Promise<void> {
    const addresses = parsePortTrap(value);
    const listen = this.env.trapListen;
    if (addresses.length > 0 && listen === undefined) throw new Error('porttrap: this server cannot open ports');
    const old = this.trap;
    this.trap =
      addresses.length === 0 || listen === undefined
        ? undefined
        : new PortTrap(this.name, addresses, { listen, log: this.env.log, now: this.env.now }, (line, time) => this.filter.processTrapLine(line, time));
    if (this.alive) {
      await old?.stop();
      await this.trap?.start();
    }
  }

  /** `status <jail> [flavor]` as fail2ban's value. */
  status(flavor: string): PyValue {
    const fm = this.filter.failManager;
    const filter: PyValue[] = [new PyTuple(['Currently failed', fm.size]), new PyTuple(['Total failed', fm.failTotal])];
    if (this.files) filter.push(new PyTuple(['File list', this.files.getLogPaths()]));
    else filter.push(new PyTuple(['Journal matches', [this.journalMatches.map((m) => m.join(' ')).join(' + ')]]));
    if (!['short', 'basic', 'cymru'].includes(flavor)) {
      this.env.log.log('fail2ban.actions', LEVEL.WARNING, `Unsupported extended jail status flavor '${flavor}'. Supported: ['short', 'basic', 'cymru']`);
    }
    const bm = this.actions.banManager;
    const acts: PyValue[] = [new PyTuple(['Currently banned', bm.size]), new PyTuple(['Total banned', bm.banTotal])];
    if (flavor !== 'short') acts.push(new PyTuple(['Banned IP list', this.actions.bannedIds()]));
    if (flavor === 'cymru') {
      this.env.log.log('fail2ban.banmanager', LEVEL.ERROR, 'dnspython package is required but could not be imported');
      acts.push(new PyTuple(['Banned ASN list', ['error']]), new PyTuple(['Banned Country list', ['error']]), new PyTuple(['Banned RIR list', ['error']]));
    }
    return [new PyTuple(['Filter', filter]), new PyTuple(['Actions', acts])];
  }
}

/** Python's KeyError (an unknown action or jail). */
export class KeyError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}
