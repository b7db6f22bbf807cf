/**
 * The ban side of a jail (fail2ban's `Actions` thread, without the thread): tickets that reached
 * maxretry come in through `put`, are added to the ban list, written to the store and banned by
 * every action in configuration order; expired bans are released from one timer per jail set to
 * the ban list's earliest end (never a timer per ban). All action work of a jail runs through one
 * serial queue, so bans, unbans, flushes and stops of a jail never overlap, while other jails go on
 * (the shell commands themselves are serialised server-wide by the actions' command lock).
 *
 * Differences from fail2ban, on purpose: the ban is written to the store synchronously before
 * anything reports it, so a ban that was logged survives `kill -9`; bantime.increment is computed
 * before the ban actions run, so `<bantime>` in `actionban` is the increased time (fail2ban's
 * observer races the actions and usually passes the old one).
 *
 * A ban whose time bantime.increment raised is handed to every action with an `actionprolong`
 * later, as fail2ban's observer does (`prolongBan`, after `min(10, max(0, new - old - 5))` seconds):
 * one unref'd timer per pending prolong (they are rare and short), run through the jail's queue,
 * skipped when the id is no longer banned by then, cancelled when the jail stops.
 */
import { BanManager } from '../ban/banManager.js';
import { idKey, MAX_TIME, RESTORED, Ticket } from '../counter/ticket.js';
import { ipInNet, parseIp, type IpAddress } from '../shared/ip.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import type { BanIncrement } from './increment.js';

/** One action of a jail, as the jail drives it (command actions implement it through an adapter). */
export interface JailAction {
  readonly name: string;
  /** Skip this action for bans restored from the store at start. */
  readonly norestored: boolean;
  /** Whether the action has an `actionflush` (fail2ban logs "Flush ticket(s)" only then). */
  readonly canFlush: boolean;
  /** Whether the action has a non-blank `actionprolong` (only those are prolonged). */
  readonly prolongable: boolean;
  start(): Promise<void>;
  ban(ticket: Ticket): Promise<void>;
  unban(ticket: Ticket): Promise<void>;
  /** What its bans go through (`nftables`, `ipset`, `iptables`, `template`) and the last native failure. */
  readonly backend?: string;
  readonly backendError?: string | undefined;
  /** Several tickets at once (a native backend: one transaction); failures reported per ticket. */
  banMany?(tickets: readonly Ticket[], onError: (t: Ticket, e: unknown) => void): Promise<void>;
  unbanMany?(tickets: readonly Ticket[], onError: (t: Ticket, e: unknown) => void): Promise<void>;
  /** True when the action flushed everything (per-ticket unbans are then skipped for it). */
  flush(): Promise<boolean>;
  stop(): Promise<void>;
  reload(): Promise<void>;
  /** A reload keeps the action: its parameters are cleared, the stream sets them again. */
  clearAllParams(): void;
  prolong(ticket: Ticket): Promise<void>;
  consistencyCheck(): Promise<void>;
}

/** The store as the ban side uses it (a subset of store/BanStore). */
export interface BanWriter {
  addBan(jail: string, ticket: Ticket): void;
  /** Several bans in one transaction. */
  addBans?(jail: string, tickets: readonly Ticket[]): void;
  delBan(jail: string, ips: readonly string[]): void;
  delAllBans(jail: string): void;
}

export interface JailActionsEnv {
  readonly log: ServerLog;
  /** fail2ban's `MyTime.time()`, seconds. */
  readonly now: () => number;
  /** The store, when there is one (it can change with `set dbfile`). */
  readonly store: () => BanWriter | undefined;
  readonly increment: BanIncrement;
}

/** Runs async jobs one after another. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const p = this.tail.then(job, job);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once everything queued so far is done. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** At most this many tickets are banned in one batch. */
const MAX_BATCH = 10_000;

export class JailActions {
  readonly banManager = new BanManager();
  readonly actions = new Map<string, JailAction>();
  private readonly queue = new SerialQueue();
  private readonly pending: Ticket[] = [];
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  /** Pending prolongs of increased bans (fail2ban's observer timers). */
  private readonly prolongs = new Set<NodeJS.Timeout>();
  private active = false;
  private lastConsistencyCheck = 0;
  /** During a reload: the actions the stream added again (kept). */
  private reloading: Set<string> | undefined;

  constructor(
    readonly jail: string,
    private readonly env: JailActionsEnv,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  /** Starts every action (in order), then processes what is queued. */
  async start(): Promise<void> {
    this.active = true;
    await this.queue.run(async () => {
      for (const a of this.actions.values()) {
        try {
          await a.start();
        } catch (e) {
          this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to start jail '${this.jail}' action '${a.name}': ${String(e)}`);
        }
      }
    });
    this.kick();
  }

  /** A ticket that reached maxretry (or a restored ban): banned as soon as the jail's queue gets to it. */
  put(ticket: Ticket): void {
    this.pending.push(ticket);
    this.kick();
  }

  private kick(): void {
    if (!this.active || this.pumping || this.pending.length === 0) return;
    this.pumping = true;
    void this.queue.run(async () => {
      try {
        // everything due at once is one batch (one transaction per native action and family)
        while (this.pending.length > 0 && this.active) await this.checkBan(this.pending.splice(0, MAX_BATCH));
      } finally {
        this.pumping = false;
        this.schedule();
      }
    });
  }

  /**
   * `__checkBan`: every new ban is listed, stored and logged first, then each action bans the
   * batch (in one go where it can). Returns how many tickets were newly banned.
   */
  async checkBan(tickets: readonly Ticket[]): Promise<number> {
    const banned: Ticket[] = [];
    // rows written in one transaction, and only then the Ban lines logged (a logged ban is stored)
    const rows: Ticket[] = [];
    let logged = 0;
    const flush = (): void => {
      if (rows.length > 0) this.storeBans(rows.splice(0));
      for (; logged < banned.length; logged++) {
        const t = banned[logged] as Ticket;
        this.env.log.log('fail2ban.actions', LEVEL.NOTICE, `[${this.jail}] ${t.restored ? 'Restore ' : ''}Ban ${t.id.text}`);
      }
    };
    for (const ticket of tickets) {
      const now = this.env.now();
      const btime = ticket.banTimeOr(this.banManager.banTime);
      const r = this.banManager.addBanTicket(ticket, now);
      if (r === true) {
        banned.push(ticket);
        if (!ticket.restored && this.banFound(ticket, btime)) rows.push(ticket);
        continue;
      }
      flush();
      if (r.reason === 'expired') {
        this.env.log.log('fail2ban.actions', LEVEL.INFO, `[${this.jail}] Ignore ${ticket.id.text}, expired bantime`);
        continue;
      }
      const existing = r.existing ?? ticket;
      if (existing.banned) {
        const diff = ticket.time - existing.time;
        const level = diff < 3 ? LEVEL.DEBUG : diff < 60 ? LEVEL.NOTICE : LEVEL.WARNING;
        this.env.log.log('fail2ban.actions', level, `[${this.jail}] ${ticket.id.text} already banned`);
        if (diff > 3 && now > this.lastConsistencyCheck + 3) {
          this.lastConsistencyCheck = now;
          for (const a of this.actions.values()) await a.consistencyCheck().catch(() => undefined);
        }
      }
    }
    flush();
    if (banned.length > 0) await this.banWithActions(banned);
    return banned.length;
  }

  private storeBans(tickets: readonly Ticket[]): void {
    const store = this.env.store();
    if (!store) return;
    if (store.addBans) store.addBans(this.jail, tickets);
    else for (const t of tickets) store.addBan(this.jail, t);
  }

  private async banWithActions(tickets: readonly Ticket[]): Promise<void> {
    for (const a of this.actions.values()) {
      const mine = tickets.filter((t) => !(t.restored && a.norestored));
      const onError = (t: Ticket, e: unknown): void =>
        this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to execute ban jail '${this.jail}' action '${a.name}' info '${describe(t)}': ${errText(e)}`);
      if (mine.length === 0) continue;
      if (a.banMany) await a.banMany(mine, onError).catch((e: unknown) => mine.forEach((t) => onError(t, e)));
      else for (const t of mine) await a.ban(t).catch((e: unknown) => onError(t, e));
    }
    for (const t of tickets) t.banned = true;
  }

  /**
   * The observer's `banFound`: bantime.increment and, when the ban time was increased, the
   * delayed `actionprolong`. True when the ban is to be stored (the caller writes the rows,
   * synchronously, before anything reports the bans).
   */
  private banFound(ticket: Ticket, btime: number): boolean {
    if (btime !== -1 && ticket.banTime === null) {
      this.env.increment.increase(this.jail, ticket, btime);
      // The ticket is already in the ban list: when its end moved, it is filed again.
      if (ticket.banTimeOr(this.banManager.banTime) !== btime) this.banManager.touch(ticket);
    }
    const bt = ticket.banTimeOr(this.banManager.banTime);
    if (bt !== -1 && ticket.time + bt < this.env.now()) {
      this.env.log.log('fail2ban.observer', LEVEL.DEBUG, `[${this.jail}] Ignore old bantime ${ticket.id.text}`);
      return false;
    }
    if (bt !== btime) this.prolongLater(ticket, bt === -1 ? 0 : Math.min(10, Math.max(0, bt - btime - 5)));
    // A ticket found to be restored (its failure is not newer than the stored ban) keeps its row.
    return !ticket.restored;
  }

  /** The observer's `prolongBan` after `delay` seconds: `actionprolong` of every prolongable action. */
  private prolongLater(ticket: Ticket, delay: number): void {
    this.env.log.log('fail2ban.observer', LEVEL.HEAVYDEBUG, `[${this.jail}] Observer: prolong ${ticket.id.text} in ${delay}`);
    const timer = setTimeout(() => {
      this.prolongs.delete(timer);
      void this.queue.run(() => this.prolongBan(ticket));
    }, delay * 1000);
    timer.unref?.();
    this.prolongs.add(timer);
  }

  /** `_prolongBan`: only while the id is still banned (a ban in the list has its time already). */
  private async prolongBan(ticket: Ticket): Promise<void> {
    if (!this.active || this.banManager.ticketOf(idKey(ticket.id)) === undefined) return;
    this.env.log.log('fail2ban.observer', LEVEL.DEBUG, `[${this.jail}] Observer: prolong ${ticket.id.text}, ${ticket.banTime ?? 'None'}`);
    for (const a of this.actions.values()) {
      if (ticket.restored && a.norestored) continue;
      if (!a.prolongable) continue;
      try {
        await a.prolong(ticket);
      } catch (e) {
        this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to execute ban jail '${this.jail}' action '${a.name}' info '${describe(ticket)}': ${errText(e)}`);
      }
    }
  }

  /** Releases expired bans (in ban order) and sets the timer for the next end. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.active) return;
    const next = this.banManager.nextUnbanTime;
    if (next >= MAX_TIME) return;
    const delayMs = Math.max(0, Math.min(0x7fffffff, Math.ceil((next - this.env.now()) * 1000) + 1));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.queue.run(() => this.checkUnban()).finally(() => this.schedule());
    }, delayMs);
    this.timer.unref?.();
  }

  private async checkUnban(): Promise<number> {
    const list = this.banManager.unBanList(this.env.now());
    await this.unbanTickets(list, [...this.actions.values()]);
    return list.length;
  }

  private unbanTicket(ticket: Ticket, actions: readonly JailAction[]): Promise<void> {
    return this.unbanTickets([ticket], actions);
  }

  /** Logs each unban, then each action unbans the batch (in one go where it can). */
  private async unbanTickets(tickets: readonly Ticket[], actions: readonly JailAction[]): Promise<void> {
    if (tickets.length === 0) return;
    for (const t of tickets) this.env.log.log('fail2ban.actions', LEVEL.NOTICE, `[${this.jail}] Unban ${t.id.text}`);
    for (const a of actions) {
      const onError = (t: Ticket, e: unknown): void =>
        this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to execute unban jail '${this.jail}' action '${a.name}' info '${describe(t)}': ${errText(e)}`);
      if (a.unbanMany) await a.unbanMany(tickets, onError).catch((e: unknown) => tickets.forEach((t) => onError(t, e)));
      else for (const t of tickets) await a.unban(t).catch((e: unknown) => onError(t, e));
    }
  }

  /** `set <jail> banip ip…`: newly banned count (already banned → 0); no ignore check, as fail2ban. */
  banIps(ips: readonly string[]): Promise<number> {
    return this.queue.run(async () => {
      const now = this.env.now();
      const tickets = ips.map((ip) => new Ticket(parseIp(ip), now));
      const n = await this.checkBan(tickets);
      this.schedule();
      return n;
    });
  }

  /**
   * `set <jail> unbanip [--report-absent] ip…`: removed from the store (even if not banned) and the
   * ban list, unbanned by every action. A network or host name that is not itself banned unbans
   * every banned address inside it. Returns the count; `missing` collects absent ones.
   */
  unbanIps(ips: readonly string[], missing: string[]): Promise<number> {
    return this.queue.run(async () => {
      let count = 0;
      for (const text of ips) {
        const id = parseIp(text);
        this.env.store()?.delBan(this.jail, [id.text]);
        const t = this.banManager.remove(idKey(id));
        if (t) {
          await this.unbanTicket(t, [...this.actions.values()]);
          count++;
          continue;
        }
        const inside = id.family !== undefined && !isSingle(id) ? this.banManager.tickets().filter((b) => ipInNet(b.id, id)) : [];
        if (inside.length === 0) {
          missing.push(text);
          continue;
        }
        for (const b of inside) {
          this.banManager.remove(idKey(b.id));
          this.env.store()?.delBan(this.jail, [b.id.text]);
          await this.unbanTicket(b, [...this.actions.values()]);
          count++;
        }
      }
      this.schedule();
      return count;
    });
  }

  /** Unbans everything (actionflush where an action has one); `db` also deletes the jail's rows. */
  flushAll(db: boolean, stopping = false): Promise<number> {
    return this.queue.run(() => this.flushNow(db, stopping));
  }

  private async flushNow(db: boolean, stopping: boolean): Promise<number> {
    const list = this.banManager.flush();
    if (db) this.env.store()?.delAllBans(this.jail);
    const each: JailAction[] = [];
    for (const a of this.actions.values()) {
      if (a.canFlush) {
        this.env.log.log('fail2ban.actions', LEVEL.NOTICE, `[${this.jail}] Flush ticket(s) with ${a.name}`);
        try {
          if (await a.flush()) continue;
        } catch (e) {
          this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to flush bans in jail '${this.jail}' action '${a.name}': ${errText(e)}`);
          this.env.log.log('fail2ban.actions', LEVEL.INFO, 'No flush occurred, do consistency check');
          if (stopping) continue;
        }
      }
      each.push(a);
    }
    await this.unbanTickets(list, each);
    return list.length;
  }

  /** Jail stop: flush (without touching the store), then stop the actions in reverse order. */
  stop(): Promise<void> {
    return this.queue.run(async () => {
      this.active = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      for (const p of this.prolongs) clearTimeout(p);
      this.prolongs.clear();
      await this.flushNow(false, true);
      for (const a of [...this.actions.values()].reverse()) {
        try {
          await a.stop();
        } catch (e) {
          this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to stop jail '${this.jail}' action '${a.name}': ${errText(e)}`);
        }
      }
    });
  }

  /** A reload of the jail begins: actions the stream adds again are kept (`keepOnReload`). */
  beginReload(): void {
    this.reloading = new Set();
  }

  /**
   * `addaction` during a reload: an action of that name is kept (its bans and firewall state
   * stay), its parameters cleared for the stream to set again. False when there is none.
   */
  keepOnReload(name: string): boolean {
    const a = this.actions.get(name);
    if (this.reloading === undefined || a === undefined) return false;
    a.clearAllParams();
    this.reloading.add(name);
    return true;
  }

  /**
   * The reload is over (fail2ban's `Actions.reload(begin=False)`): the kept actions run their
   * `actionreload`, the ones the new configuration no longer has unban their bans (with them
   * alone) and stop. Nothing happens for a jail that was not reloaded (a new one).
   */
  endReload(): Promise<void> {
    const kept = this.reloading;
    this.reloading = undefined;
    if (kept === undefined) return Promise.resolve();
    return this.queue.run(async () => {
      for (const [name, a] of [...this.actions]) {
        if (kept.has(name)) {
          await a.reload().catch((e: unknown) => this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to reload jail '${this.jail}' action '${a.name}': ${errText(e)}`));
          continue;
        }
        this.actions.delete(name);
        await this.retire(a);
      }
    });
  }

  /** Removes an action: its bans are unbanned with it alone, then it is stopped. */
  removeAction(name: string): Promise<void> {
    const a = this.actions.get(name);
    if (!a) return Promise.resolve();
    return this.queue.run(async () => {
      this.actions.delete(name);
      await this.retire(a);
    });
  }

  /** An action leaves the jail: its bans are lifted with it alone (flush if it can), then it stops. */
  private async retire(a: JailAction): Promise<void> {
    if (!(a.canFlush && (await a.flush().catch(() => false)))) for (const t of this.banManager.tickets()) await a.unban(t).catch(() => undefined);
    await a.stop().catch(() => undefined);
  }

  /** The jail's bantime changed: bans without their own time move with it. */
  bantimeChanged(): void {
    this.schedule();
  }

  /** Banned ids in ban order (status "Banned IP list"). */
  bannedIds(): string[] {
    return this.banManager.tickets().map((t) => t.id.text);
  }

  restoreTicket(ip: IpAddress, time: number, banTime: number, banCount: number, data: ReadonlyMap<string, unknown>): Ticket {
    const t = new Ticket(ip, time);
    for (const [k, v] of data) if (typeof v === 'string' || typeof v === 'number' || Array.isArray(v)) t.data.set(k, v as never);
    t.banTime = banTime;
    t.banCount = banCount;
    t.flags |= RESTORED;
    return t;
  }
}

function isSingle(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.plen === 32 : ip.plen === 128;
}

function describe(t: Ticket): string {
  return `ip=${t.id.text} time=${t.time} bantime=${t.banTime ?? 'None'} bancount=${t.banCount}`;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
