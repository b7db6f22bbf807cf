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
 *
 * This file owns the class (jails, log positions, writing bans, purge); the parts: banTypes,
 * storeOpen (open/create/recover), storeSql (statements, error mapping), banQueries (ban reads),
 * ticketData (the `data` column).
 */
import type Database from 'better-sqlite3';
import { pyRound } from '../shared/pymath.js';
import { LEVEL } from '../system/log.js';
import { getBan, getBansMerged, getCurrentBans } from './banQueries.js';
import type { BanHistory, CurrentBansQuery, DbBan, LogPosition, MergedBans, StoredBan, StoreOptions } from './banTypes.js';
import { dumpData } from './pyjson.js';
import { DB_LOGGER } from './schema.js';
import { openDatabase } from './storeOpen.js';
import { StoreSql } from './storeSql.js';
import { entriesOf, listOf, truthy } from './ticketData.js';

export type { BanHistory, CurrentBansQuery, DbBan, LogPosition, MergedBans, StoredBan, StoreOptions } from './banTypes.js';

export class BanStore {
  /** `dbmaxmatches`: matches kept per stored ban (0: none). */
  maxMatches = 10;
  private readonly sql: StoreSql;

  private constructor(
    private readonly db: Database.Database,
    readonly filename: string,
    private readonly opts: StoreOptions,
  ) {
    this.sql = new StoreSql(db, filename);
  }

  /** Opens (or creates, or upgrades) `file`; `:memory:` for a private in-memory database. */
  static open(file: string, opts: StoreOptions): BanStore {
    return new BanStore(openDatabase(file, opts), file, opts);
  }

  /** Closes the connection (idempotent); the WAL is folded back into the file. */
  close(): void {
    if (!this.db.open) return;
    this.opts.log.log(DB_LOGGER, LEVEL.DEBUG, 'Close connection to database ...');
    this.sql.run('close', () => this.db.close());
    this.opts.log.log(DB_LOGGER, LEVEL.INFO, 'Connection to database closed.');
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  // ---- jails ----

  /** `add <jail>`: the jail row, enabled. */
  addJail(name: string): void {
    this.sql.run('add jail', () => {
      const r = this.sql.stmt('INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)').run(name);
      if (r.changes <= 0) this.sql.stmt('UPDATE jails SET enabled = 1 WHERE name = ? AND enabled != 1').run(name);
    });
  }

  /** Jail stopped or deleted: disabled (purge removes it once it has no bans). */
  delJail(name: string): void {
    this.sql.run('delete jail', () => this.sql.stmt('UPDATE jails SET enabled=0 WHERE name=?').run(name));
  }

  /** `set dbfile`: every jail disabled. */
  delAllJails(): void {
    this.sql.run('delete all jails', () => this.sql.stmt('UPDATE jails SET enabled=0').run());
  }

  /** Jail names; `enabled` true/false selects enabled/disabled ones, undefined all. */
  getJailNames(enabled?: boolean): string[] {
    return this.sql.run('get jail names', () => {
      if (enabled === undefined) return this.sql.stmt('SELECT name FROM jails').pluck().all() as string[];
      return this.sql.stmt('SELECT name FROM jails WHERE enabled=?').pluck().all(enabled ? 1 : 0) as string[];
    });
  }

  // ---- log positions ----

  /**
   * `addLog` / `getJournalPos`: the stored position if the stored hash equals `hash` (or `hash` is
   * null); a row is inserted if none with a hash exists and `pos` is non-zero or `hash` non-null.
   */
  addLog(jail: string, path: string, hash: string | null, pos: number | null): number | undefined {
    return this.sql.run('add log', () => {
      const row = this.sql.stmt('SELECT firstlinemd5, lastfilepos FROM logs WHERE jail=? AND path=?').get(jail, path) as
        | { firstlinemd5: string | null; lastfilepos: number | null }
        | undefined;
      const stored = row?.firstlinemd5 ?? null;
      let last = row?.lastfilepos ?? undefined;
      if (stored === null && (truthy(pos) || hash !== null)) {
        this.sql.stmt('INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)').run(jail, path, hash, pos);
      }
      if (hash !== null && hash !== stored) last = undefined;
      return last ?? undefined;
    });
  }

  getLog(jail: string, path: string): LogPosition | undefined {
    return this.sql.run('get log', () => {
      const row = this.sql.stmt('SELECT firstlinemd5, lastfilepos FROM logs WHERE jail=? AND path=?').get(jail, path) as
        | { firstlinemd5: string | null; lastfilepos: number | null }
        | undefined;
      return row === undefined ? undefined : { hash: row.firstlinemd5, pos: row.lastfilepos };
    });
  }

  getLogPaths(jail?: string): string[] {
    return this.sql.run('get log paths', () => {
      if (jail === undefined) return this.sql.stmt('SELECT path FROM logs').pluck().all() as string[];
      return this.sql.stmt('SELECT path FROM logs WHERE jail=?').pluck().all(jail) as string[];
    });
  }

  /** `updateLog` / `updateJournal`: hash and position, the row inserted if absent. */
  updateLog(jail: string, path: string, hash: string | null, pos: number | null): void {
    this.sql.run('update log', () => {
      const r = this.sql.stmt('UPDATE logs SET firstlinemd5=?, lastfilepos=? WHERE jail=? AND path=?').run(hash, pos, jail, path);
      if (!r.changes) this.sql.stmt('INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)').run(jail, path, hash, pos);
    });
  }

  delLog(jail: string, path: string): void {
    this.sql.run('delete log', () => this.sql.stmt('DELETE FROM logs WHERE jail=? AND path=?').run(jail, path));
  }

  // ---- bans ----

  /** The ban in `bans` (history) and `bips` (last ban per ip and jail), in one transaction. */
  addBan(jail: string, ban: StoredBan): void {
    this.addBans(jail, [ban]);
  }

  /** Several bans in one transaction (a flood: one commit instead of one per ban). */
  addBans(jail: string, bans: readonly StoredBan[]): void {
    const rows = bans.map((b) => this.banRow(b));
    this.sql.run('add ban', () =>
      this.db.transaction(() => {
        const toBans = this.sql.stmt('INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)');
        const toBips = this.sql.stmt('INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)');
        for (const [ip, ...values] of rows) {
          toBans.run(jail, ip, ...values);
          toBips.run(ip, jail, ...values);
        }
      })(),
    );
  }

  /** A ban's row values: `matches` cut to dbmaxmatches (none when 0), the data as Python's JSON. */
  private banRow(ban: StoredBan): readonly [string, number, number, number, Buffer] {
    const entries = entriesOf(ban.data);
    const i = entries.findIndex(([k]) => k === 'matches');
    const matches = i < 0 ? undefined : entries[i]?.[1];
    if (this.maxMatches) {
      const list = listOf(matches);
      if (list.length > this.maxMatches) entries[i] = ['matches', list.slice(-this.maxMatches)];
    } else if (i >= 0 && truthy(matches)) {
      entries.splice(i, 1);
    }
    return [ban.ip, Math.trunc(pyRound(ban.timeOfBan)), ban.banTime, ban.banCount, dumpData(new Map(entries))];
  }

  /** `unbanip`: the ips' rows in both tables, of `jail` or (null) of every jail. */
  delBan(jail: string | null, ips: readonly string[]): void {
    const where = jail === null ? 'ip = ?' : 'jail = ? AND ip = ?';
    this.sql.run('delete ban', () =>
      this.db.transaction(() => {
        for (const ip of ips) {
          const args = jail === null ? [ip] : [jail, ip];
          this.sql.stmt(`DELETE FROM bips WHERE ${where}`).run(...args);
          this.sql.stmt(`DELETE FROM bans WHERE ${where}`).run(...args);
        }
      })(),
    );
  }

  /** `unban --all`: every ban of the jail in both tables. */
  delAllBans(jail: string): void {
    this.sql.run('delete all bans', () =>
      this.db.transaction(() => {
        this.sql.stmt('DELETE FROM bips WHERE jail = ?').run(jail);
        this.sql.stmt('DELETE FROM bans WHERE jail = ?').run(jail);
      })(),
    );
  }

  /** Rows in `bans` (the history), of one jail or all. */
  countBans(jail?: string): number {
    return this.sql.run('count bans', () => {
      if (jail === undefined) return this.sql.stmt('SELECT count(*) FROM bans').pluck().get() as number;
      return this.sql.stmt('SELECT count(*) FROM bans WHERE jail=?').pluck().get(jail) as number;
    });
  }

  /** §2.7 restore: the bans of the jail still in force, with fail2ban's corrections. */
  getCurrentBans(q: CurrentBansQuery): DbBan[] {
    return getCurrentBans(this.sql, q, this.maxMatches, this.opts.log);
  }

  /**
   * bantime.increment's look-up (§2.4): count, time and bantime of the last ban of `ip` in `jail`,
   * or with `jail` null (overalljails) summed over every jail (`max(timeofban)`).
   */
  getBan(ip: string, jail: string | null, opts: { forbantime?: number; fromtime?: number } = {}): BanHistory | undefined {
    return getBan(this.sql, () => this.opts.now(), ip, jail, opts);
  }

  /**
   * `<ipmatches>`/`<ipfailures>` (jail null: every jail) and `<ipjailmatches>`/`<ipjailfailures>`:
   * the history of `ip` merged, newest rows read first; undefined when there is none.
   */
  getBansMerged(ip: string, jail: string | null, maxmatches = this.maxMatches): MergedBans | undefined {
    return getBansMerged(this.sql, this.opts.log, ip, jail, maxmatches);
  }

  /** The observer's purge (§4.3): old history, outdated bips (never permanent ones), disabled jails without bans. */
  purge(now: number, purgeAge: number): void {
    const limit = Math.trunc(now) - purgeAge;
    this.sql.run('purge', () =>
      this.db.transaction(() => {
        this.sql.stmt('DELETE FROM bans WHERE timeofban < ?').run(now - purgeAge);
        this.sql.stmt('DELETE FROM bips WHERE timeofban < ? and bantime != -1 and (timeofban + (bantime * ?)) < ?').run(limit, 3, limit);
        this.sql.stmt(
          'DELETE FROM jails WHERE enabled = 0 AND NOT EXISTS(SELECT * FROM bans WHERE jail = jails.name) AND NOT EXISTS(SELECT * FROM bips WHERE jail = jails.name)',
        ).run();
      })(),
    );
  }
}
