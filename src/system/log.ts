/**
 * The server's log as a port. Every daemon part logs through a `ServerLog` with fail2ban's logger
 * name (`fail2ban.actions`, `fail2ban.filter` …) and a Python logging level, because the stock
 * `recidive` jail and admins' scripts read those lines; the target (file, stdout, syslog …) and the
 * line format live behind the port (daemon/logTarget.ts). Tests use `MemoryLog` (src/testing).
 */

/** Python logging levels as fail2ban names them (fail2ban adds NOTICE 25, MSG 18, TRACEDEBUG 7, HEAVYDEBUG 5). */
export const LEVEL = {
  CRITICAL: 50,
  ERROR: 40,
  WARNING: 30,
  NOTICE: 25,
  INFO: 20,
  MSG: 18,
  DEBUG: 10,
  TRACEDEBUG: 7,
  HEAVYDEBUG: 5,
} as const;

export type LevelName = keyof typeof LEVEL;

export interface ServerLog {
  /** Writes `message` for logger `name` (e.g. `fail2ban.actions`) at `level` if the level is enabled. */
  log(name: string, level: number, message: string): void;
  /** Whether a message at `level` would be written (to skip building expensive messages). */
  isEnabledFor(level: number): boolean;
}

/** A log that drops everything. */
export const NULL_LOG: ServerLog = {
  log(): void {},
  isEnabledFor(): boolean {
    return false;
  },
};
