/**
 * fail2ban's database schema, version 4 (server/database.py): the DDL text exactly as fail2ban
 * runs it (SQLite keeps the statement text in `sqlite_master`, so the same text gives the same
 * `.dump`), how the version is read, and the upgrade of versions 1–3 the way fail2ban does it.
 */
import { copyFileSync, existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { PortcullisError } from '../shared/errors.js';
import { LEVEL } from '../system/log.js';
import type { ServerLog } from '../system/log.js';

/** The schema version fail2ban 0.11 … 1.1 write. */
export const SCHEMA_VERSION = 4;

/** fail2ban's logger name for everything the database logs. */
export const DB_LOGGER = 'fail2ban.database';

/** Stable codes of {@link StoreError}. */
export type StoreErrorCode =
  | 'E_STORE_OPEN' // the file or its directory cannot be created or opened
  | 'E_STORE_CORRUPT' // not a SQLite database, or damaged
  | 'E_STORE_VERSION' // written by a newer fail2ban/portcullis
  | 'E_STORE_UPGRADE' // an older version could not be upgraded
  | 'E_STORE_QUERY' // a statement failed (disk full, locked, constraint …)
  | 'E_STORE_CLOSED'; // used after close()

/** Every failure of the store: which file, which operation, and the SQLite error as the cause. */
export class StoreError extends PortcullisError {
  constructor(
    code: StoreErrorCode,
    readonly file: string,
    readonly operation: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, `Database "${file}": ${operation} failed: ${detail}`, options);
  }
}

const TABLE = 'CREATE TABLE IF NOT EXISTS';
const INDEX = 'CREATE INDEX IF NOT EXISTS';

/** The scripts per table, in fail2ban's order and with its exact text (`_CREATE_SCRIPTS`). */
export const CREATE_SCRIPTS: ReadonlyArray<readonly [string, string]> = [
  ['fail2banDb', `${TABLE} fail2banDb(version INTEGER);`],
  ['jails', `${TABLE} jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);${INDEX} jails_name ON jails(name);`],
  [
    'logs',
    `${TABLE} logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, ` +
      'FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5));' +
      `${INDEX} logs_path ON logs(path);${INDEX} logs_jail_path ON logs(jail, path);`,
  ],
  [
    'bans',
    `${TABLE} bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, ` +
      'bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) );' +
      `${INDEX} bans_jail_timeofban_ip ON bans(jail, timeofban);${INDEX} bans_jail_ip ON bans(jail, ip);${INDEX} bans_ip ON bans(ip);`,
  ],
  [
    'bips',
    `${TABLE} bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, ` +
      'bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name) );' +
      `${INDEX} bips_timeofban ON bips(timeofban);${INDEX} bips_ip ON bips(ip);`,
  ],
];

function script(table: string): string {
  return CREATE_SCRIPTS.find(([name]) => name === table)?.[1] ?? '';
}

/** Creates what is missing and stores the version if none is stored (`_createDb`); returns the stored version. */
export function createSchema(db: Database.Database): number {
  db.transaction(() => {
    for (const [, sql] of CREATE_SCRIPTS) db.exec(sql);
    db.prepare('INSERT INTO fail2banDb(version) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM fail2banDb LIMIT 1)').run(SCHEMA_VERSION);
  })();
  return readVersion(db) ?? SCHEMA_VERSION;
}

function tableExists(db: Database.Database, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(table) !== undefined;
}

/**
 * The stored version; `undefined` when there is none (a new or foreign database, which fail2ban
 * fills with its tables). Reading `sqlite_master` is the first read of the file, so a file that is
 * not a database fails here (SQLITE_NOTADB).
 */
export function readVersion(db: Database.Database): number | undefined {
  if (!tableExists(db, 'fail2banDb')) return undefined;
  const row = db.prepare('SELECT version FROM fail2banDb LIMIT 1').raw().get() as unknown[] | undefined;
  const v = row?.[0];
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : Number.NaN;
}

/** `<file>.YYYYmmdd-HHMMSS` with the UTC time `nowSec`, fail2ban's backup name. */
export function backupName(file: string, nowSec: number): string {
  const d = new Date(Math.floor(nowSec) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  return `${file}.${date}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export interface UpgradeContext {
  readonly file: string;
  readonly log: ServerLog;
  readonly nowSec: number;
}

function execScript(db: Database.Database, sql: string): void {
  try {
    db.exec(sql);
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function upgradeSteps(db: Database.Database, version: number): void {
  if (version < 2 && tableExists(db, 'logs')) {
    execScript(
      db,
      'BEGIN TRANSACTION;CREATE TEMPORARY TABLE logs_temp AS SELECT * FROM logs;DROP TABLE logs;' +
        `${script('logs')};INSERT INTO logs SELECT * from logs_temp;DROP TABLE logs_temp;UPDATE fail2banDb SET version = 2;COMMIT;`,
    );
  }
  if (version < 3 && tableExists(db, 'bans')) {
    // bantime -2: unknown (the ban is older than the column); the restore uses the jail's bantime.
    execScript(
      db,
      'BEGIN TRANSACTION;CREATE TEMPORARY TABLE bans_temp AS SELECT jail, ip, timeofban, -2 as bantime, 1 as bancount, data FROM bans;' +
        `DROP TABLE bans;${script('bans')};\nINSERT INTO bans SELECT * from bans_temp;DROP TABLE bans_temp;COMMIT;`,
    );
  }
  if (version < 4 && !tableExists(db, 'bips')) {
    execScript(db, `BEGIN TRANSACTION;${script('bips')};\nUPDATE fail2banDb SET version = 4;COMMIT;`);
    if (tableExists(db, 'bans')) {
      db.exec(
        'INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data)  SELECT ip, jail, timeofban, bantime, bancount, data FROM bans order by timeofban',
      );
    }
  }
}

/**
 * `updateDb`: a copy of the file first (`<file>.YYYYmmdd-HHMMSS`, kept if it exists), then the
 * steps of fail2ban (v<2 rebuilds `logs`, v<3 rebuilds `bans` with bantime -2, v<4 adds `bips`
 * filled from `bans`). A newer version is refused: fail2ban cannot read it either.
 */
export function upgradeSchema(db: Database.Database, version: number, ctx: UpgradeContext): void {
  if (!(version <= SCHEMA_VERSION)) {
    throw new StoreError('E_STORE_VERSION', ctx.file, 'open', `database version '${version}' is newer than the supported version '${SCHEMA_VERSION}'`);
  }
  const backup = backupName(ctx.file, ctx.nowSec);
  ctx.log.log(DB_LOGGER, LEVEL.INFO, `Upgrade database: ${backup} from version '${version}'`);
  try {
    if (ctx.file !== ':memory:' && !existsSync(backup)) {
      db.pragma('wal_checkpoint(TRUNCATE)');
      copyFileSync(ctx.file, backup);
      ctx.log.log(DB_LOGGER, LEVEL.INFO, `  Database backup created: ${backup}`);
    }
    upgradeSteps(db, version);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    ctx.log.log(DB_LOGGER, LEVEL.ERROR, `Failed to upgrade database '${ctx.file}': ${detail}`);
    throw new StoreError('E_STORE_UPGRADE', ctx.file, `upgrade from version '${version}'`, detail, { cause: err });
  }
  const now = readVersion(db);
  if (now !== SCHEMA_VERSION) {
    const msg = `Database update failed to achieve version '${SCHEMA_VERSION}': updated from '${version}' to '${String(now)}'`;
    ctx.log.log(DB_LOGGER, LEVEL.ERROR, msg);
    throw new StoreError('E_STORE_UPGRADE', ctx.file, `upgrade from version '${version}'`, msg);
  }
  ctx.log.log(DB_LOGGER, LEVEL.WARNING, `Database updated from '${version}' to '${SCHEMA_VERSION}'`);
}
