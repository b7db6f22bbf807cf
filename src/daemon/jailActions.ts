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
  start(): Promise<void>;
  ban(ticket: Ticket): Promise<void>;
  unban(ticket: Ticket): Promise<void>;
  /** True when the action flushed everything (per-ticket unbans are then skipped for it). */
  flush(): Promise<boolean>;
  stop(): Promise<void>;
  reload(): Promise<void>;
  prolong(ticket: Ticket): Promise<void>;
  consistencyCheck(): Promise<void>;
}

/** The store as the ban side uses it (a subset of store/BanStore). */
export interface BanWriter {
  addBan(jail: string, ticket: Ticket): void;
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

export class JailActions {
  readonly banManager = new BanManager();
  readonly actions = new Map<string, JailAction>();
  private readonly queue = new SerialQueue();
  private readonly pending: Ticket[] = [];
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private lastConsistencyCheck = 0;

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
        while (this.pending.length > 0 && this.active) {
          const batch = this.pending.splice(0, 10);
          await this.checkBan(batch);
        }
      } finally {
        this.pumping = false;
        this.schedule();
      }
    });
  }

  /** `__checkBan`: returns how many tickets were newly banned. */
  async checkBan(tickets: readonly Ticket[]): Promise<number> {
    let count = 0;
    for (const ticket of tickets) {
      const now = this.env.now();
      const btime = ticket.banTimeOr(this.banManager.banTime);
      const r = this.banManager.addBanTicket(ticket, now);
      if (r === true) {
        count++;
        if (!ticket.restored) this.banFound(ticket, btime);
        this.env.log.log('fail2ban.actions', LEVEL.NOTICE, `[${this.jail}] ${ticket.restored ? 'Restore ' : ''}Ban ${ticket.id.text}`);
        for (const a of this.actions.values()) {
          if (ticket.restored && a.norestored) continue;
          try {
            await a.ban(ticket);
          } catch (e) {
            this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to execute ban jail '${this.jail}' action '${a.name}' info '${describe(ticket)}': ${errText(e)}`);
          }
        }
        ticket.banned = true;
        continue;
      }
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
    return count;
  }

  /** The observer's `banFound`: bantime.increment and the store row (synchronously, before the actions run). */
  private banFound(ticket: Ticket, btime: number): void {
    const store = this.env.store();
    if (btime !== -1 && ticket.banTime === null) this.env.increment.increase(this.jail, ticket, btime);
    const bt = ticket.banTimeOr(this.banManager.banTime);
    if (bt !== -1 && ticket.time + bt < this.env.now()) {
      this.env.log.log('fail2ban.observer', LEVEL.DEBUG, `[${this.jail}] Ignore old bantime ${ticket.id.text}`);
      return;
    }
    store?.addBan(this.jail, ticket);
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
    for (const t of list) await this.unbanTicket(t, [...this.actions.values()], true);
    return list.length;
  }

  private async unbanTicket(ticket: Ticket, actions: readonly JailAction[], log: boolean): Promise<void> {
    if (log) this.env.log.log('fail2ban.actions', LEVEL.NOTICE, `[${this.jail}] Unban ${ticket.id.text}`);
    for (const a of actions) {
      try {
        await a.unban(ticket);
      } catch (e) {
        this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to execute unban jail '${this.jail}' action '${a.name}' info '${describe(ticket)}': ${errText(e)}`);
      }
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
          await this.unbanTicket(t, [...this.actions.values()], true);
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
          await this.unbanTicket(b, [...this.actions.values()], true);
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
    for (const t of list) await this.unbanTicket(t, each, true);
    return list.length;
  }

  /** Jail stop: flush (without touching the store), then stop the actions in reverse order. */
  stop(): Promise<void> {
    return this.queue.run(async () => {
      this.active = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
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

  /** `actionreload` of every action (server reload). */
  reload(): Promise<void> {
    return this.queue.run(async () => {
      for (const a of this.actions.values()) await a.reload().catch((e: unknown) => this.env.log.log('fail2ban.actions', LEVEL.ERROR, `Failed to reload jail '${this.jail}' action '${a.name}': ${errText(e)}`));
    });
  }

  /** Removes an action: its bans are unbanned with it alone, then it is stopped. */
  removeAction(name: string): Promise<void> {
    const a = this.actions.get(name);
    if (!a) return Promise.resolve();
    return this.queue.run(async () => {
      this.actions.delete(name);
      if (!(a.canFlush && (await a.flush().catch(() => false)))) for (const t of this.banManager.tickets()) await a.unban(t).catch(() => undefined);
      await a.stop().catch(() => undefined);
    });
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
