/** fail2ban's SQLite database (schema version 4), read and written compatibly. */
export { BanStore } from './banStore.js';
export type { BanHistory, CurrentBansQuery, DbBan, LogPosition, MergedBans, StoredBan, StoreOptions } from './banStore.js';
export { CREATE_SCRIPTS, DB_LOGGER, SCHEMA_VERSION, StoreError, backupName } from './schema.js';
export type { StoreErrorCode } from './schema.js';
export { dumpData, loadData, pyEncodeUtf8, pyJsonDumps, pyJsonFloat, pyJsonLoads, pyJsonString, PyJsonSyntaxError } from './pyjson.js';
