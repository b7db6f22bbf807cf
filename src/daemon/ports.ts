/**
 * What the daemon core (jails, server, transmitter) needs from outside, as ports: log sources,
 * the store, actions and the log target. The composition root (daemon/compose.ts) plugs the real
 * parts in — file and journal sources, the SQLite store, command actions, the server logger —
 * and tests can plug in their own.
 */
import type { Ticket } from '../counter/ticket.js';
import type { PyValue } from '../shared/pyvalue.js';
import type { TupleLine } from '../filter/failData.js';
import type { BanWriter, JailAction } from './jailActions.js';

/** A jail's log files. */
export interface FileSourcePort {
  addLogPath(path: string, tail: boolean): void;
  delLogPath(path: string): void;
  getLogPaths(): string[];
  start(): void;
  stop(): void;
}

/** A jail's journal reader. */
export interface JournalSourcePort {
  start(): void;
  stop(): void;
  /** `addjournalmatch` / `deljournalmatch` at run time: the running reader takes the new matches at once. */
  matchesChanged(): void;
}

export type FileBackend = 'auto' | 'polling' | 'pyinotify';

export interface SourceFactory {
  files(
    jail: string,
    backend: FileBackend,
    encoding: () => string,
    onLines: (path: string, lines: readonly string[], inOperation: boolean) => void,
    /** First read of a file (not `tail`): skip to the first line dated ≥ `startTime()`. */
    seek: { startTime(): number; dateOf(line: string): number | null },
  ): FileSourcePort;
  journal(
    jail: string,
    /** The backend's options (`systemd[journalflags=1]` → journalflags → 1). */
    backendArgs: ReadonlyMap<string, string>,
    matches: () => ReadonlyArray<readonly string[]>,
    findtime: () => number,
    onEntries: (entries: ReadonlyArray<{ readonly line: TupleLine; readonly time: number }>, inOperation: boolean) => void,
  ): JournalSourcePort;
}

/** A ban read back from the store at jail start. */
export interface RestoredBan {
  readonly ip: string;
  readonly timeOfBan: number;
  readonly banTime: number;
  readonly banCount: number;
  readonly data: ReadonlyMap<string, unknown>;
}

/** The store as the server uses it. */
export interface StorePort extends BanWriter {
  readonly filename: string;
  maxMatches: number;
  purgeAge: number;
  addJail(name: string): void;
  delJail(name: string): void;
  delAllJails(): void;
  getCurrentBans(q: { jail: string; now: number; forbantime: number | null; correctBanTime: number | null; maxmatches: number }): RestoredBan[];
  /** bantime.increment's history of an id: this jail, or all jails (`overalljails`). */
  getBan(ip: string, jail: string | null): { banCount: number; timeOfBan: number; banTime: number } | undefined;
  purge(now: number): void;
  close(): void;
}

export interface StoreFactory {
  open(filename: string): StorePort;
}

/** An action of a jail with what `get/set <jail> action …` needs. */
export interface ConfiguredAction extends JailAction {
  getProperty(name: string): PyValue | undefined;
  setProperty(name: string, value: string): void;
  propertyNames(): string[];
  methodNames(): string[];
  /** Calls a method by name (`set <jail> action <act> <method> [json]`). */
  call(method: string, ticket?: Ticket): Promise<PyValue>;
}

export interface ActionFactory {
  /** A command action; throws a typed error for Python actions (`*.py`), which portcullis cannot load. */
  create(jail: string, name: string, pythonFile: string | undefined): ConfiguredAction;
}

/** The server's own log, as `set/get loglevel|logtarget|syslogsocket` and `flushlogs` change it. */
export interface LogControl {
  setLevel(value: string): void;
  getLevel(): string;
  /** false when the target cannot be used. */
  setTarget(value: string): boolean;
  getTarget(): string;
  setSyslogSocket(value: string): boolean;
  getSyslogSocket(): string;
  /** `flushlogs`: reopen a file target (`rolled over`) or flush (`flushed`). */
  flush(): string;
}
