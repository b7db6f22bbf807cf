/**
 * Adapters from the daemon's ports (daemon/ports.ts) to the real parts: command actions
 * (action/), the SQLite store (store/), bantime.increment (ban/banTimeIncrement.ts) and the
 * server logger (daemon/logTarget.ts). Kept apart from the core so that the core stays testable
 * with its own fakes.
 */
import { ActionInfo, type ActionInfoPorts } from '../action/actionInfo.js';
import { CommandAction, PythonActionError, type ActionEnv, type BanEpoch } from '../action/commandAction.js';
import { NativeBans, type NativeBackends } from '../action/nativeBans.js';
import { BanTimeIncrement } from '../ban/banTimeIncrement.js';
import type { Ticket } from '../counter/ticket.js';
import { isIpAddress } from '../shared/ip.js';
import { PyFloat, pyNumber, pyRepr, type PyValue } from '../shared/pyvalue.js';
import { seconds2str, time2str } from '../shared/timefmt.js';
import { BanStore } from '../store/banStore.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import type { JailBanIncrement } from './increment.js';
import type { ServerLogger } from './logTarget.js';
import type { ConfiguredAction, LogControl, RestoredBan, StorePort } from './ports.js';
import type { Server } from './server.js';

const JOURNAL_PATH = 'systemd-journal';

/** A command action as a jail drives it. */
export class CommandActionAdapter implements ConfiguredAction {
  constructor(
    private readonly action: CommandAction,
    private readonly ports: ActionInfoPorts,
    /** The native path for bans and unbans, when the daemon has backends (action/nativeBans.ts). */
    private readonly native?: NativeBans,
  ) {}

  /** What the action's bans go through: a native backend's kind, or `template`. */
  get backend(): string {
    return this.native?.kind ?? 'template';
  }

  /** The last native failure, if the last native change failed. */
  get backendError(): string | undefined {
    return this.native?.lastError;
  }

  /** Many tickets at once: natively (one transaction per family) where possible, the rest one by one. */
  async banMany(tickets: readonly Ticket[], onError: (t: Ticket, e: unknown) => void): Promise<void> {
    const infos = tickets.map((t) => this.info(t));
    const left = this.native ? await this.native.ban(infos) : infos;
    for (const i of left) await this.action.ban(i).catch((e: unknown) => onError(i.ticket, e));
  }

  async unbanMany(tickets: readonly Ticket[], onError: (t: Ticket, e: unknown) => void): Promise<void> {
    const infos = tickets.map((t) => this.info(t));
    const left = this.native ? await this.native.unban(infos) : infos;
    for (const i of left) await this.action.unban(i).catch((e: unknown) => onError(i.ticket, e));
  }

  get name(): string {
    return this.action.name;
  }

  get norestored(): boolean {
    return this.action.norestored;
  }

  get canFlush(): boolean {
    return this.action.hasFlush;
  }

  get prolongable(): boolean {
    return this.action.prolongable;
  }

  private info(t: Ticket): ActionInfo {
    return new ActionInfo(t, this.action.jail, this.ports, { kind: 'BanTicket' });
  }

  async start(): Promise<void> {
    await this.action.start();
    // the native tool started now, not by the first ban of an attack (not awaited: never fails)
    void this.native?.prepare();
  }

  ban(t: Ticket): Promise<void> {
    return this.banMany([t], (_t, e) => {
      throw e;
    });
  }

  unban(t: Ticket): Promise<void> {
    return this.unbanMany([t], (_t, e) => {
      throw e;
    });
  }

  flush(): Promise<boolean> {
    return this.action.flush();
  }

  async stop(): Promise<void> {
    await this.action.stop();
  }

  async reload(): Promise<void> {
    await this.action.reload();
  }

  clearAllParams(): void {
    this.action.clearAllParams();
  }

  prolong(t: Ticket): Promise<void> {
    return this.action.prolong(this.info(t));
  }

  async consistencyCheck(): Promise<void> {
    await this.action.consistencyCheck();
  }

  getProperty(name: string): PyValue | undefined {
    return this.action.getProperty(name);
  }

  setProperty(name: string, value: string): void {
    this.action.setProperty(name, value);
  }

  propertyNames(): string[] {
    return this.action.propertyNames();
  }

  methodNames(): string[] {
    return this.action.methodNames();
  }

  async call(method: string): Promise<PyValue> {
    switch (method) {
      case 'start':
      case 'stop':
      case 'reload':
      case 'flush':
      case 'consistencyCheck':
        return await this.action[method]();
      case 'clearAllParams':
        this.action.clearAllParams();
        return null;
      default:
        throw new Error(`Invalid command '${method}' (no set action or not yet implemented)`);
    }
  }
}

/** Builds the command actions of every jail: one ban epoch per jail, one env per server. */
export function actionFactory(server: () => Server, env: ActionEnv, ports: ActionInfoPorts, backends?: NativeBackends) {
  const epochs = new Map<string, BanEpoch>();
  return {
    create(jail: string, name: string, pythonFile: string | undefined): ConfiguredAction {
      if (pythonFile !== undefined) throw new PythonActionError(jail, name, pythonFile);
      let epoch = epochs.get(jail);
      if (!epoch) epochs.set(jail, (epoch = { current: 0 }));
      const view = {
        name: jail,
        banTime: () => server().jail(jail).actions.banManager.banTime,
        banned: () => server().jail(jail).actions.banManager.size,
        bannedTotal: () => server().jail(jail).actions.banManager.banTotal,
        found: () => server().jail(jail).filter.failManager.size,
        foundTotal: () => server().jail(jail).filter.failManager.failTotal,
      };
      const action = new CommandAction(name, view, [], env, epoch);
      return new CommandActionAdapter(action, ports, backends && new NativeBans(action, backends, env.log));
    },
  };
}

/** A ticket's data as the store keeps it (`matches`, `failures` and the groups; addresses as text). */
export function ticketData(t: Ticket): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of t.data) {
    if (isIpAddress(v)) out.set(k, v.text);
    else if (v instanceof Set) out.set(k, [...(v as Set<string>)]);
    else out.set(k, v);
  }
  return out;
}

/** The SQLite store behind the server's StorePort. */
export class StoreAdapter implements StorePort {
  purgeAge = 86400;

  constructor(readonly store: BanStore) {}

  get filename(): string {
    return this.store.filename;
  }

  get maxMatches(): number {
    return this.store.maxMatches;
  }

  set maxMatches(v: number) {
    this.store.maxMatches = v;
  }

  addJail(name: string): void {
    this.store.addJail(name);
  }

  delJail(name: string): void {
    this.store.delJail(name);
  }

  delAllJails(): void {
    this.store.delAllJails();
  }

  addBans(jail: string, tickets: readonly Ticket[]): void {
    this.store.addBans(jail, tickets.map((t) => ({ ip: t.id.text, timeOfBan: t.time, banTime: t.banTime ?? -1, banCount: t.banCount, data: ticketData(t) })));
  }

  addBan(jail: string, t: Ticket): void {
    this.store.addBan(jail, { ip: t.id.text, timeOfBan: t.time, banTime: t.banTime ?? -1, banCount: t.banCount, data: ticketData(t) });
  }

  delBan(jail: string, ips: readonly string[]): void {
    this.store.delBan(jail, [...ips]);
  }

  delAllBans(jail: string): void {
    this.store.delAllBans(jail);
  }

  getCurrentBans(q: { jail: string; now: number; forbantime: number | null; correctBanTime: number | null; maxmatches: number }): RestoredBan[] {
    return this.store.getCurrentBans(q).map((b) => ({ ip: b.ip, timeOfBan: b.timeOfBan, banTime: b.banTime, banCount: b.banCount, data: b.data }));
  }

  getBan(ip: string, jail: string | null): { banCount: number; timeOfBan: number; banTime: number } | undefined {
    return this.store.getBan(ip, jail);
  }

  purge(now: number): void {
    this.store.purge(now, this.purgeAge);
  }

  addLog(jail: string, path: string, hash: string | null, pos: number | null): number | undefined {
    return this.store.addLog(jail, path, hash, pos);
  }

  updateLog(jail: string, path: string, hash: string, pos: number): void {
    this.store.updateLog(jail, path, hash, pos);
  }

  /** The journal position as fail2ban keeps it: path `systemd-journal`, `lastfilepos` = epoch time. */
  getJournalPosition(jail: string): { time: number } | undefined {
    const row = this.store.getLog(jail, JOURNAL_PATH);
    return row?.pos !== null && row?.pos !== undefined ? { time: row.pos } : undefined;
  }

  saveJournalPosition(jail: string, _cursor: string | undefined, isoText: string, time: number): void {
    this.store.updateLog(jail, JOURNAL_PATH, isoText, time);
  }

  close(): void {
    this.store.close();
  }
}

/** bantime.increment of one jail (fail2ban's observer `incrBanTime`), reading the ban history from the store. */
export class JailIncrement implements JailBanIncrement {
  readonly options: BanTimeIncrement;

  constructor(
    private readonly log: ServerLog,
    private readonly store: () => StorePort | undefined,
  ) {
    this.options = new BanTimeIncrement(log, () => this.store() !== undefined);
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  get maxTime(): number | null {
    const v = this.options.get('maxtime');
    return typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat ? pyNumber(v) : null;
  }

  setOption(opt: string, value: string): void {
    this.options.set(opt, value);
  }

  getOption(opt: string): PyValue {
    return this.options.get(opt);
  }

  failureWeight(jail: string, ticket: Ticket, maxRetry: number): number {
    const store = this.store();
    if (!store || !this.options.enabled) return 1;
    const row = store.getBan(ticket.id.text, jail);
    if (!row) return 1;
    const banCount = Math.max(row.banCount, ticket.banCount);
    // fail2ban: (1 << min(banCount, 20)) / 2 + 1, a float, then min() with the int maxretry
    const weight = 2 ** Math.min(banCount, 20) / 2 + 1;
    const retry = maxRetry < weight ? maxRetry : weight;
    if (ticket.time <= row.timeOfBan) {
      this.log.log('fail2ban.observer', LEVEL.DEBUG, `[${jail}] Ignore failure ${ticket.id.text} before last ban ${ticket.time} < ${row.timeOfBan}, restored`);
      return 1;
    }
    if (retry <= 1) return 1;
    const shown = retry === weight ? pyRepr(new PyFloat(retry)) : String(retry);
    this.log.log('fail2ban.observer', LEVEL.INFO, `[${jail}] Found ${ticket.id.text}, bad - ${time2str(ticket.time)}, ${banCount} # -> ${shown}${retry >= maxRetry ? ', Ban' : ''}`);
    ticket.banCount = banCount;
    return Math.trunc(retry);
  }

  increase(jail: string, ticket: Ticket, btime: number): void {
    const store = this.store();
    if (!store || !this.options.enabled || btime <= 0) return;
    const row = store.getBan(ticket.id.text, this.options.overallJails ? null : jail);
    if (!row) return;
    let banCount = row.banCount;
    if (banCount >= ticket.banCount) ticket.banCount = banCount + 1;
    else banCount = ticket.banCount - 1;
    let bantime = btime;
    if (banCount > 0) {
      const v = this.options.evformula(btime, banCount);
      bantime = pyNumber(v);
    }
    const old = btime;
    ticket.banTime = bantime;
    if (ticket.time > row.timeOfBan) {
      this.log.log('fail2ban.observer', LEVEL.INFO, `[${jail}] IP ${ticket.id.text} is bad: ${banCount} # last ${time2str(row.timeOfBan)} - incr ${seconds2str(old)} to ${seconds2str(ticket.banTime)}`);
    } else ticket.restored = true;
    if (ticket.banTime !== old) {
      const end = ticket.banTime === -1 ? 'permanent' : time2str(ticket.time + ticket.banTime);
      this.log.log('fail2ban.observer', LEVEL.NOTICE, `[${jail}] Increase Ban ${ticket.id.text} (${ticket.banCount} # ${seconds2str(ticket.banTime)} -> ${end})`);
    }
  }
}

/** `set/get loglevel|logtarget|syslogsocket`, `flushlogs` on the server logger. */
export function logControl(logger: ServerLogger): LogControl {
  return {
    setLevel: (v) => logger.setLevel(v),
    getLevel: () => logger.level,
    setTarget: (v) => logger.setTarget(v),
    getTarget: () => logger.target ?? 'STDERR',
    setSyslogSocket: (v) => logger.setSyslogSocket(v),
    getSyslogSocket: () => logger.syslogSocket,
    flush: () => logger.flushLogs(),
  };
}

/** The store factory: opens (creating if needed) with the server's log. */
export function storeFactory(log: ServerLog, now: () => number) {
  return {
    open(filename: string): StorePort {
      return new StoreAdapter(BanStore.open(filename, { log, now }));
    },
  };
}
