/**
 * fail2ban's persistent database (server/database.py `Fail2BanDb`) on better-sqlite3: the same
 * file, schema and values, so that a database written by fail2ban opens here and the other way
 * round.
 *
 * Durability differs on purpose. fail2ban runs with `journal_mode=MEMORY` and `synchronous=OFF`:
 * fast, but a process killed in the middle of a write can leave a damaged file (the rollback
 * journal was only in memory). portcullis uses `journal_mode=WAL` with `synchronous=NORMAL`: a
 * commit has been written to the WAL file (the OS's page cache) when the call returns, so a ban
 * reported as done survives `kill -9`; a crash mid-write leaves the last commit intact; only a
 * power loss can drop the latest commits (never damage the file). The calls are synchronous, so a
 * ban is stored before it is reported. A WAL file stays readable by fail2ban (SQLite ≥ 3.7 reads
 * it; fail2ban switches it back to its own journal mode when it opens the file).
 *
 * Every failure is a {@link StoreError} naming the file and the operation.
 */
import { mkdirSync, openSync, closeSync, renameSync, existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import Database from 'better-sqlite3';
import { pyRound } from '../shared/pymath.js';
import { PyDict, PyTuple, pyStr } from '../shared/pyvalue.js';
import type { PyValue } from '../shared/pyvalue.js';
import { LEVEL } from '../system/log.js';
import type { ServerLog } from '../system/log.js';
import { dumpData, loadData } from './pyjson.js';
import { DB_LOGGER, SCHEMA_VERSION, StoreError, backupName, createSchema, readVersion, upgradeSchema } from './schema.js';
import type { StoreErrorCode } from './schema.js';

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

interface BanRow {
  ip: string;
  timeofban: number;
  bantime: number;
  bancount: number;
  data: Buffer | string | null;
}

/** Python's truthiness for the values a ticket's data holds. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  return v !== null && v !== undefined && v !== false && v !== 0;
}

function entriesOf(data: unknown): Array<[string, unknown]> {
  if (data instanceof PyDict) return data.entries.map(([k, v]) => [k, v]);
  if (data instanceof Map) return Array.from(data as ReadonlyMap<unknown, unknown>, ([k, v]) => [String(k), v]);
  if (typeof data === 'object' && data !== null) return Object.entries(data);
  return [];
}

function listOf(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v as readonly unknown[];
  if (v instanceof PyTuple) return v.items;
  return [];
}

/** `Ticket.getMatches()`: `[prefix, date, rest]` lists joined. */
function joinMatches(list: readonly unknown[]): string[] {
  return list.map((m) => {
    const parts = listOf(m);
    if (Array.isArray(m) || m instanceof PyTuple) return parts.map((p) => pyStr(p as PyValue)).join('');
    return typeof m === 'string' ? m : pyStr(m as PyValue);
  });
}

function numberOf(v: PyValue | undefined, absent: number): number {
  if (v === undefined) return absent;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'object' && v !== null && 'value' in v && typeof v.value === 'number' ? v.value : 0;
}

function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' && err.code.startsWith('SQLITE_') ? err.code : undefined;
}

function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (code?.startsWith('SQLITE_CORRUPT_') ?? false);
}

function toStoreError(err: unknown, file: string, operation: string, code?: StoreErrorCode): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const sql = sqliteCode(err);
  const c = code ?? (isCorruption(err) ? 'E_STORE_CORRUPT' : 'E_STORE_QUERY');
  return new StoreError(c, file, operation, sql === undefined ? detail : `${detail} (${sql})`, { cause: err });
}

/** `mkdir` of the last level (absolute paths only, as fail2ban) and the file created 0600; true if it was new. */
function prepareFile(file: string): boolean {
  if (isAbsolute(file)) {
    try {
      mkdirSync(dirname(file), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    closeSync(openSync(file, 'wx', 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function stamp(nowSec: number): string {
  return backupName('', nowSec).slice(1);
}

export class BanStore {
  /** `dbmaxmatches`: matches kept per stored ban (0: none). */
  maxMatches = 10;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    readonly filename: string,
    private readonly opts: StoreOptions,
  ) {}

  /** Opens (or creates, or upgrades) `file`; `:memory:` for a private in-memory database. */
  static open(file: string, opts: StoreOptions): BanStore {
    try {
      return BanStore.openOnce(file, opts);
    } catch (err) {
      const e = toStoreError(err, file, 'open', 'E_STORE_OPEN');
      if (e.code !== 'E_STORE_CORRUPT' || opts.recoverCorrupt !== true || file === ':memory:') throw e;
      const aside = `${file}.corrupt-${stamp(opts.now())}`;
      opts.log.log(DB_LOGGER, LEVEL.ERROR, `Database '${file}' is damaged (${e.message}); moved aside to '${aside}', creating a new one`);
      try {
        renameSync(file, aside);
        for (const ext of ['-wal', '-shm']) if (existsSync(file + ext)) renameSync(file + ext, aside + ext);
      } catch (moveErr) {
        throw toStoreError(moveErr, file, 'move aside a damaged database', 'E_STORE_OPEN');
      }
      return BanStore.openOnce(file, opts);
    }
  }

  private static openOnce(file: string, opts: StoreOptions): BanStore {
    let db: Database.Database;
    try {
      if (file !== ':memory:') prepareFile(file);
      db = new Database(file, { fileMustExist: file !== ':memory:' });
    } catch (err) {
      opts.log.log(DB_LOGGER, LEVEL.ERROR, `Error connecting to fail2ban persistent database '${file}': ${(err as Error).message}`);
      throw toStoreError(err, file, 'open', 'E_STORE_OPEN');
    }
    opts.log.log(DB_LOGGER, LEVEL.INFO, `Connected to fail2ban persistent database '${file}'`);
    try {
      BanStore.initialize(db, file, opts);
    } catch (err) {
      db.close();
      throw toStoreError(err, file, 'open', isCorruption(err) ? 'E_STORE_CORRUPT' : undefined);
    }
    return new BanStore(db, file, opts);
  }

  private static initialize(db: Database.Database, file: string, opts: StoreOptions): void {
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    const version = readVersion(db);
    if (version === undefined) {
      opts.log.log(DB_LOGGER, LEVEL.WARNING, `New database created. Version '${createSchema(db)}'`);
    } else if (Number.isNaN(version)) {
      throw new StoreError('E_STORE_CORRUPT', file, 'open', 'the stored schema version is not a number');
    } else if (version !== SCHEMA_VERSION) {
      upgradeSchema(db, version, { file, log: opts.log, nowSec: opts.now() });
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }

  /** Closes the connection (idempotent); the WAL is folded back into the file. */
  close(): void {
    if (!this.db.open) return;
    this.opts.log.log(DB_LOGGER, LEVEL.DEBUG, 'Close connection to database ...');
    this.run('close', () => this.db.close());
    this.opts.log.log(DB_LOGGER, LEVEL.INFO, 'Connection to database closed.');
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  private run<T>(operation: string, fn: () => T): T {
    if (!this.db.open) throw new StoreError('E_STORE_CLOSED', this.filename, operation, 'the database is closed');
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.filename, operation);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  // ---- jails ----

  /** `add <jail>`: the jail row, enabled. */
  addJail(name: string): void {
    this.run('add jail', () => {
      const r = this.stmt('INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)').run(name);
      if (r.changes <= 0) this.stmt('UPDATE jails SET enabled = 1 WHERE name = ? AND enabled != 1').run(name);
    });
  }

  /** Jail stopped or deleted: disabled (purge removes it once it has no bans). */
  delJail(name: string): void {
    this.run('delete jail', () => this.stmt('UPDATE jails SET enabled=0 WHERE name=?').run(name));
  }

  /** `set dbfile`: every jail disabled. */
  delAllJails(): void {
    this.run('delete all jails', () => this.stmt('UPDATE jails SET enabled=0').run());
  }

  /** Jail names; `enabled` true/false selects enabled/disabled ones, undefined all. */
  getJailNames(enabled?: boolean): string[] {
    return this.run('get jail names', () => {
      if (enabled === undefined) return this.stmt('SELECT name FROM jails').pluck().all() as string[];
      return this.stmt('SELECT name FROM jails WHERE enabled=?').pluck().all(enabled ? 1 : 0) as string[];
    });
  }

  // ---- log positions ----

  /**
   * `addLog` / `getJournalPos`: the stored position if the stored hash equals `hash` (or `hash` is
   * null); a row is inserted if none with a hash exists and `pos` is non-zero or `hash` non-null.
   */
  addLog(jail: string, path: string, hash: string | null, pos: number | null): number | undefined {
    return this.run('add log', () => {
      const row = this.stmt('SELECT firstlinemd5, lastfilepos FROM logs WHERE jail=? AND path=?').get(jail, path) as
        | { firstlinemd5: string | null; lastfilepos: number | null }
        | undefined;
      const stored = row?.firstlinemd5 ?? null;
      let last = row?.lastfilepos ?? undefined;
      if (stored === null && (truthy(pos) || hash !== null)) {
        this.stmt('INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)').run(jail, path, hash, pos);
      }
      if (hash !== null && hash !== stored) last = undefined;
      return last ?? undefined;
    });
  }

  getLog(jail: string, path: string): LogPosition | undefined {
    return this.run('get log', () => {
      const row = this.stmt('SELECT firstlinemd5, lastfilepos FROM logs WHERE jail=? AND path=?').get(jail, path) as
        | { firstlinemd5: string | null; lastfilepos: number | null }
        | undefined;
      return row === undefined ? undefined : { hash: row.firstlinemd5, pos: row.lastfilepos };
    });
  }

  getLogPaths(jail?: string): string[] {
    return this.run('get log paths', () => {
      if (jail === undefined) return this.stmt('SELECT path FROM logs').pluck().all() as string[];
      return this.stmt('SELECT path FROM logs WHERE jail=?').pluck().all(jail) as string[];
    });
  }

  /** `updateLog` / `updateJournal`: hash and position, the row inserted if absent. */
  updateLog(jail: string, path: string, hash: string | null, pos: number | null): void {
    this.run('update log', () => {
      const r = this.stmt('UPDATE logs SET firstlinemd5=?, lastfilepos=? WHERE jail=? AND path=?').run(hash, pos, jail, path);
      if (!r.changes) this.stmt('INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)').run(jail, path, hash, pos);
    });
  }

  delLog(jail: string, path: string): void {
    this.run('delete log', () => this.stmt('DELETE FROM logs WHERE jail=? AND path=?').run(jail, path));
  }

  // ---- bans ----

  /** The ban in `bans` (history) and `bips` (last ban per ip and jail), in one transaction. */
  addBan(jail: string, ban: StoredBan): void {
    const entries = entriesOf(ban.data);
    const i = entries.findIndex(([k]) => k === 'matches');
    const matches = i < 0 ? undefined : entries[i]?.[1];
    if (this.maxMatches) {
      const list = listOf(matches);
      if (list.length > this.maxMatches) entries[i] = ['matches', list.slice(-this.maxMatches)];
    } else if (i >= 0 && truthy(matches)) {
      entries.splice(i, 1);
    }
    const data = dumpData(new Map(entries));
    const time = Math.trunc(pyRound(ban.timeOfBan));
    this.run('add ban', () =>
      this.db.transaction(() => {
        const values = [time, ban.banTime, ban.banCount, data] as const;
        this.stmt('INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)').run(jail, ban.ip, ...values);
        this.stmt('INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)').run(ban.ip, jail, ...values);
      })(),
    );
  }

  /** `unbanip`: the ips' rows in both tables, of `jail` or (null) of every jail. */
  delBan(jail: string | null, ips: readonly string[]): void {
    const where = jail === null ? 'ip = ?' : 'jail = ? AND ip = ?';
    this.run('delete ban', () =>
      this.db.transaction(() => {
        for (const ip of ips) {
          const args = jail === null ? [ip] : [jail, ip];
          this.stmt(`DELETE FROM bips WHERE ${where}`).run(...args);
          this.stmt(`DELETE FROM bans WHERE ${where}`).run(...args);
        }
      })(),
    );
  }

  /** `unban --all`: every ban of the jail in both tables. */
  delAllBans(jail: string): void {
    this.run('delete all bans', () =>
      this.db.transaction(() => {
        this.stmt('DELETE FROM bips WHERE jail = ?').run(jail);
        this.stmt('DELETE FROM bans WHERE jail = ?').run(jail);
      })(),
    );
  }

  /** Rows in `bans` (the history), of one jail or all. */
  countBans(jail?: string): number {
    return this.run('count bans', () => {
      if (jail === undefined) return this.stmt('SELECT count(*) FROM bans').pluck().get() as number;
      return this.stmt('SELECT count(*) FROM bans WHERE jail=?').pluck().get(jail) as number;
    });
  }

  private parseData(raw: Buffer | string | null, ip: string): Map<string, PyValue> {
    const v = loadData(raw);
    if (v instanceof PyDict) return new Map(v.entries);
    if (v !== null) this.opts.log.log(DB_LOGGER, LEVEL.ERROR, `json loads failed: data of ${ip} is not a JSON object`);
    return new Map();
  }

  /** `FailTicket(ip, time, data=…)`: matches and failures default, None values dropped. */
  private ticketData(raw: Buffer | string | null, ip: string): Map<string, PyValue> {
    const data = new Map<string, PyValue>([
      ['matches', []],
      ['failures', 0],
    ]);
    for (const [k, v] of this.parseData(raw, ip)) if (v !== null) data.set(k, v);
    return data;
  }

  /** §2.7 restore: the bans of the jail still in force, with fail2ban's corrections. */
  getCurrentBans(q: CurrentBansQuery): DbBan[] {
    let sql = 'SELECT ip, timeofban, bantime, bancount, data FROM bips WHERE jail=?';
    const args: Array<string | number> = [q.jail];
    if (q.ip !== undefined) {
      sql += ' AND ip=?';
      args.push(q.ip);
    }
    sql += ' AND (timeofban + bantime > ? OR bantime <= -1)';
    args.push(q.now);
    if (q.forbantime !== null && q.forbantime !== -1) {
      sql += ' AND timeofban > ?';
      args.push(q.now - q.forbantime);
    }
    sql += q.ip === undefined ? ' GROUP BY ip ORDER BY ip, timeofban DESC' : ' ORDER BY timeofban DESC LIMIT 1';
    const rows = this.run('get current bans', () => this.stmt(sql).all(...args) as BanRow[]);
    const out: DbBan[] = [];
    for (const row of rows) {
      const ban = this.currentBan(row, q);
      if (ban) out.push(ban);
    }
    return out;
  }

  private currentBan(row: BanRow, q: CurrentBansQuery): DbBan | undefined {
    if (row.ip === '' || typeof row.ip !== 'string') return undefined;
    const correct = q.correctBanTime === -1 ? null : q.correctBanTime;
    let banTime = row.bantime;
    if (banTime === -2) banTime = q.jailBanTime ?? (correct ? correct : 600);
    else if (correct !== null && correct > 0 && (banTime === -1 || banTime > correct)) banTime = correct;
    if (banTime !== -1 && row.timeofban + banTime <= q.now) return undefined;
    const data = this.ticketData(row.data, row.ip);
    const max = q.maxmatches ?? this.maxMatches;
    let matches = joinMatches(listOf(data.get('matches')));
    if (!max) {
      data.delete('matches');
      matches = [];
    } else if (matches.length > max) {
      matches = matches.slice(-max);
      data.set('matches', matches);
    }
    return { ip: row.ip, timeOfBan: row.timeofban, banTime, banCount: row.bancount, data, matches, failures: numberOf(data.get('failures'), 0) };
  }

  /**
   * bantime.increment's look-up (§2.4): count, time and bantime of the last ban of `ip` in `jail`,
   * or with `jail` null (overalljails) summed over every jail (`max(timeofban)`).
   */
  getBan(ip: string, jail: string | null, opts: { forbantime?: number; fromtime?: number } = {}): BanHistory | undefined {
    let sql = jail === null ? 'SELECT sum(bancount), max(timeofban), sum(bantime) FROM bips' : 'SELECT bancount, timeofban, bantime FROM bips';
    sql += ' WHERE ip = ?';
    const args: Array<string | number> = [ip];
    if (jail !== null) {
      sql += ' AND jail=?';
      args.push(jail);
    }
    if (opts.forbantime !== undefined) {
      sql += ' AND timeofban > ?';
      args.push(this.opts.now() - opts.forbantime);
    }
    if (opts.fromtime !== undefined) {
      sql += ' AND timeofban > ?';
      args.push(opts.fromtime);
    }
    if (jail === null) sql += ' GROUP BY ip ORDER BY timeofban DESC LIMIT 1';
    const row = this.run('get ban', () => this.stmt(sql).raw().get(...args) as [number, number, number] | undefined);
    return row === undefined ? undefined : { banCount: row[0], timeOfBan: row[1], banTime: row[2] };
  }

  /**
   * `<ipmatches>`/`<ipfailures>` (jail null: every jail) and `<ipjailmatches>`/`<ipjailfailures>`:
   * the history of `ip` merged, newest rows read first; undefined when there is none.
   */
  getBansMerged(ip: string, jail: string | null, maxmatches = this.maxMatches): MergedBans | undefined {
    const sql = `SELECT ip, timeofban, data FROM bans WHERE 1${jail === null ? '' : ' AND jail=?'} AND ip=? ORDER BY ip, timeofban desc`;
    const rows = this.run('get bans merged', () => this.stmt(sql).all(...(jail === null ? [ip] : [jail, ip])) as BanRow[]);
    const last = rows[rows.length - 1];
    if (last === undefined) return undefined;
    let matches: unknown[] = [];
    let failures = 0;
    const merged = new Map<string, PyValue>();
    for (const row of rows) {
      const data = this.parseData(row.data, row.ip);
      const m = listOf(data.get('matches'));
      const room = maxmatches - matches.length;
      if (room > 0) matches = [...(m.length <= room ? m : m.slice(-room)), ...matches];
      failures += numberOf(data.get('failures'), 1);
      for (const [k, v] of data) merged.set(k, v);
      merged.set('failures', failures);
      merged.set('matches', matches as PyValue[]);
    }
    const data = this.ticketData(null, ip);
    for (const [k, v] of merged) if (v !== null) data.set(k, v);
    return { ip: last.ip, timeOfBan: last.timeofban, failures, matches: joinMatches(matches), data };
  }

  /** The observer's purge (§4.3): old history, outdated bips (never permanent ones), disabled jails without bans. */
  purge(now: number, purgeAge: number): void {
    const limit = Math.trunc(now) - purgeAge;
    this.run('purge', () =>
      this.db.transaction(() => {
        this.stmt('DELETE FROM bans WHERE timeofban < ?').run(now - purgeAge);
        this.stmt('DELETE FROM bips WHERE timeofban < ? and bantime != -1 and (timeofban + (bantime * ?)) < ?').run(limit, 3, limit);
        this.stmt(
          'DELETE FROM jails WHERE enabled = 0 AND NOT EXISTS(SELECT * FROM bans WHERE jail = jails.name) AND NOT EXISTS(SELECT * FROM bips WHERE jail = jails.name)',
        ).run();
      })(),
    );
  }
}
