/**
 * The log sources of the jails (the SourceFactory port): log files through source/fileSource.ts
 * (inotify or polling), the journal through source/journalSource.ts (journalctl). Both are built
 * when the jail starts — after the configuration stream has set `logencoding`, `findtime` and the
 * journal matches — and read and write their positions through the server's current store.
 */
import { FileSource, type PositionStore } from '../source/fileSource.js';
import { JournalSource, type JournalPositionStore } from '../source/journalSource.js';
import type { JournalOptions } from '../source/journalArgs.js';
import type { Clock } from '../system/clock.js';
import type { ServerLog } from '../system/log.js';
import type { FileBackend, FileSourcePort, JournalSourcePort, SourceFactory } from './ports.js';

export interface SourceEnv {
  readonly log: ServerLog;
  readonly clock: Clock;
  /** The server's store positions (absent without a database). */
  readonly positions: () => (PositionStore & JournalPositionStore) | undefined;
  /** polling round interval (ms). */
  readonly pollIntervalMs?: number;
  readonly journalctl?: string;
}

/** Files of one jail: paths are collected until start, then followed. */
class JailFiles implements FileSourcePort {
  private source: FileSource | undefined;

  constructor(private readonly make: () => FileSource) {}

  addLogPath(path: string, tail: boolean): void {
    const src = (this.source ??= this.make());
    src.addLogPath(path, tail);
  }

  delLogPath(path: string): void {
    this.source?.delLogPath(path);
  }

  getLogPaths(): string[] {
    return this.source?.getLogPaths() ?? [];
  }

  start(): void {
    (this.source ??= this.make()).start();
  }

  stop(): void {
    this.source?.stop();
  }
}

/**
 * The journal of one jail: the reader is built when the jail starts (with the matches, findtime
 * and options the configuration stream set by then). `matchesChanged()` hands runtime
 * `addjournalmatch` / `deljournalmatch` to the running reader, as fail2ban's do at once.
 */
class JailJournal implements JournalSourcePort {
  private source: JournalSource | undefined;

  constructor(
    private readonly make: () => JournalSource,
    private readonly matches: () => ReadonlyArray<readonly string[]>,
  ) {}

  start(): void {
    this.source = this.make();
    void this.source.start().catch(() => undefined);
  }

  /** Throws `JournalMatchError` for a match sd-journal would refuse (the reader keeps its old matches). */
  matchesChanged(): void {
    this.source?.setMatches(this.matches());
  }

  /** The position is saved before this returns (journalctl is ended in the background). */
  stop(): void {
    void this.source?.stop().catch(() => undefined);
    this.source = undefined;
  }
}

/** The systemd backend's options (`systemd[journalflags=1, journalpath=/x]`) as the journal reader takes them. */
export function parseJournalArgs(args: ReadonlyMap<string, string>): JournalOptions {
  const out: { -readonly [K in keyof JournalOptions]: JournalOptions[K] } = {};
  for (const [k, v] of args) {
    const key = k.toLowerCase();
    if (key === 'journalflags') out.journalflags = Number.parseInt(v, 10);
    else if (key === 'journalpath' || key === 'journalfiles' || key === 'namespace') out[key] = v;
  }
  return out;
}

export function sourceFactory(env: SourceEnv): SourceFactory {
  const positions: PositionStore & JournalPositionStore = {
    addLog: (jail, path, hash, pos) => env.positions()?.addLog(jail, path, hash, pos),
    updateLog: (jail, path, hash, pos) => env.positions()?.updateLog(jail, path, hash, pos),
    getJournalPosition: (jail) => env.positions()?.getJournalPosition(jail),
    saveJournalPosition: (jail, cursor, iso, time) => env.positions()?.saveJournalPosition(jail, cursor, iso, time),
  };
  return {
    files(jail: string, backend: FileBackend, encoding: () => string, onLines, seek) {
      return new JailFiles(
        () =>
          new FileSource({
            jail,
            onLines,
            backend,
            logEncoding: encoding(),
            log: env.log,
            clock: env.clock,
            positions,
            initialSeek: seek,
            ...(env.pollIntervalMs !== undefined ? { pollIntervalMs: env.pollIntervalMs } : {}),
          }),
      );
    },
    journal(jail, backendArgs, matches, findtime, onEntries) {
      return new JailJournal(
        () =>
          new JournalSource({
            jail,
            journal: parseJournalArgs(backendArgs),
            journalmatch: matches(),
            findtime: findtime(),
            onLines: (entries, inOp) => onEntries(entries.map((e) => ({ line: ['', e.isoDate + ' ', e.line] as const, time: e.time })), inOp),
            store: positions,
            log: env.log,
            clock: env.clock,
            ...(env.journalctl !== undefined ? { command: env.journalctl } : {}),
          }),
        matches,
      );
    },
  };
}
