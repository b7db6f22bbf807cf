/**
 * Opening fail2ban's database file: the file created 0600 (its directory 0700), the schema
 * created or upgraded, WAL mode; a damaged file moved aside when `recoverCorrupt` is set.
 */
import { mkdirSync, openSync, closeSync, renameSync, existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import Database from 'better-sqlite3';
import { LEVEL } from '../system/log.js';
import type { StoreOptions } from './banTypes.js';
import { DB_LOGGER, SCHEMA_VERSION, StoreError, backupName, createSchema, readVersion, upgradeSchema } from './schema.js';
import { isCorruption, toStoreError } from './storeSql.js';

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

/** Opens (or creates, or upgrades) `file`; `:memory:` for a private in-memory database. Throws StoreError. */
export function openDatabase(file: string, opts: StoreOptions): Database.Database {
  try {
    return openOnce(file, opts);
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
    return openOnce(file, opts);
  }
}

function openOnce(file: string, opts: StoreOptions): Database.Database {
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
    initialize(db, file, opts);
  } catch (err) {
    db.close();
    throw toStoreError(err, file, 'open', isCorruption(err) ? 'E_STORE_CORRUPT' : undefined);
  }
  return db;
}

function initialize(db: Database.Database, file: string, opts: StoreOptions): void {
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
