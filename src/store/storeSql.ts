/**
 * The connection under BanStore: prepared statements cached by SQL text, every call mapped to a
 * {@link StoreError} naming the file and the operation (SQLite's corruption codes → E_STORE_CORRUPT).
 */
import type Database from 'better-sqlite3';
import { StoreError } from './schema.js';
import type { StoreErrorCode } from './schema.js';

function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' && err.code.startsWith('SQLITE_') ? err.code : undefined;
}

export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (code?.startsWith('SQLITE_CORRUPT_') ?? false);
}

export function toStoreError(err: unknown, file: string, operation: string, code?: StoreErrorCode): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const sql = sqliteCode(err);
  const c = code ?? (isCorruption(err) ? 'E_STORE_CORRUPT' : 'E_STORE_QUERY');
  return new StoreError(c, file, operation, sql === undefined ? detail : `${detail} (${sql})`, { cause: err });
}

export class StoreSql {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly db: Database.Database,
    readonly filename: string,
  ) {}

  /** `fn` on the open connection; E_STORE_CLOSED after close, any failure as a StoreError. */
  run<T>(operation: string, fn: () => T): T {
    if (!this.db.open) throw new StoreError('E_STORE_CLOSED', this.filename, operation, 'the database is closed');
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.filename, operation);
    }
  }

  /** The prepared statement for `sql` (prepared once). */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}
