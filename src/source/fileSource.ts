/**
 * The log files of one jail, followed as fail2ban's file backends follow them (`FileFilter` with
 * `filterpyinotify` or `filterpoll`), read through `FileContainer` (which keeps lines across
 * rotations). Backends: `auto`/`pyinotify` = `fs.watch` on each file and its directory plus a
 * safety-net stat round every few seconds (inotify can miss events, e.g. on some file systems);
 * `polling` = a stat round every `pollIntervalMs` comparing (mtime, ino, size).
 *
 * Reads are synchronous `pread`s of at most `readBytes` (1 MiB) per turn of the event loop; a
 * file with more waits for the next turn (`setImmediate`), so a huge append does not block.
 * Timers are unref'd: the source never keeps the process alive by itself (watchers do).
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fnmatchRegExp } from '../config/ini/glob.js';
import { errorMessage, PortcullisError } from '../shared/errors.js';
import { pyReprString } from '../shared/pyvalue.js';
import type { Clock } from '../system/clock.js';
import { LEVEL, NULL_LOG, type ServerLog } from '../system/log.js';
import { DEFAULT_READ_BYTES, FileContainer, type ContainerCounters } from './fileContainer.js';

export type FileBackend = 'auto' | 'pyinotify' | 'polling';

/** Saved log positions (the `logs` table). The store implements exactly these two methods. */
export interface PositionStore {
  /** Registers the file; returns the saved position if the saved hash equals `hash`, else undefined. */
  addLog(jail: string, path: string, hash: string | null, pos: number | null): number | undefined;
  updateLog(jail: string, path: string, hash: string, pos: number): void;
}

/** Lines of one file, in file order, without line ends; `inOperation` as fail2ban's (see runtime spec §1.4). */
export type LinesCallback = (path: string, lines: readonly string[], inOperation: boolean) => void;

export interface FileSourceOptions {
  readonly jail: string;
  readonly onLines: LinesCallback;
  readonly backend?: FileBackend;
  /** The jail's `logencoding` (default `auto` = UTF-8). */
  readonly logEncoding?: string;
  readonly log?: ServerLog;
  readonly clock?: Clock;
  readonly positions?: PositionStore;
  /** polling: stat round interval (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** inotify: safety-net stat round interval (default 3000 ms). */
  readonly safetyPollMs?: number;
  readonly maxLineBytes?: number;
  /** Bytes read per turn of the event loop (default 1 MiB). */
  readonly readBytes?: number;
  /** Positions are written every this many reads (default 100) … */
  readonly positionFlushReads?: number;
  /** … or when this much time has passed since the last write (default 10 s). */
  readonly positionFlushMs?: number;
  /** Head mode, first read: skip to the first line dated ≥ `startTime()` (fail2ban: now - findtime). */
  readonly initialSeek?: { startTime(): number; dateOf(line: string): number | null };
}

/** A glob pattern fail2ban's client would expand, but with the wildcards in the directory part. */
export class LogPatternError extends PortcullisError {
  constructor(pattern: string) {
    super('LOG_PATTERN', `Wildcards are supported in the file name only, not in the directory: ${pattern}`);
  }
}

interface Entry {
  readonly path: string;
  readonly container: FileContainer;
  autoSeek: boolean;
  scheduled: boolean;
  missing: boolean;
  missingTimer: NodeJS.Timeout | undefined;
  missingDelayMs: number;
  prevStat: string;
  pending: boolean;
  readonly watchers: Map<string, FSWatcher>;
}

interface Pattern {
  readonly glob: string;
  readonly dir: string;
  readonly re: RegExp;
  readonly dotOk: boolean;
}

const MISSING_FIRST_MS = 200;
const MISSING_MAX_MS = 60_000;

export class FileSource {
  private readonly opts: FileSourceOptions;
  private readonly backend: 'pyinotify' | 'polling';
  private readonly log: ServerLog;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private readonly patterns: Pattern[] = [];
  private readonly removed = new Set<string>();
  private readonly dirWatchers = new Map<string, FSWatcher>();
  private readonly totals: ContainerCounters = { lines: 0, bytes: 0, rotations: 0, decodeErrors: 0, longLines: 0 };
  private running = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readsSinceFlush = 0;
  private nextFlushAt = 0;

  constructor(options: FileSourceOptions) {
    this.opts = options;
    this.backend = options.backend === 'polling' ? 'polling' : 'pyinotify';
    this.log = options.log ?? NULL_LOG;
    this.clock = options.clock ?? { nowMs: () => Date.now() };
  }

  /** fail2ban's backend module logger name. */
  private get backendLogger(): string {
    return this.backend === 'polling' ? 'fail2ban.filterpoll' : 'fail2ban.filterpyinotify';
  }

  /** Adds a file (it must exist: `LogFileError` `[Errno 2] No such file or directory: '…'`). */
  addLogPath(path: string, tail = false): void {
    if (this.entries.has(path)) {
      this.log.log('fail2ban.filter', LEVEL.ERROR, `${path} already exists`);
      return;
    }
    const container = new FileContainer(path, {
      tail,
      ...(this.opts.logEncoding !== undefined && { encoding: this.opts.logEncoding }),
      ...(this.opts.maxLineBytes !== undefined && { maxLineBytes: this.opts.maxLineBytes }),
      log: this.log,
      clock: this.clock,
    });
    const last = this.opts.positions?.addLog(this.opts.jail, path, container.getHash(), container.getPos());
    if (last && !tail) container.setPos(last);
    const entry: Entry = {
      path, container, autoSeek: !tail, scheduled: false, missing: false, missingTimer: undefined,
      missingDelayMs: MISSING_FIRST_MS, prevStat: '', pending: false, watchers: new Map(),
    };
    this.entries.set(path, entry);
    this.removed.delete(path);
    this.log.log('fail2ban.filter', LEVEL.INFO,
      `Added logfile: ${pyReprString(path)} (pos = ${container.getPos()}, hash = ${container.getHash()})`);
    if (this.running) this.follow(entry);
  }

  /** Stops following a file (its position is written first). */
  delLogPath(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.savePosition(entry);
    this.entries.delete(path);
    this.removed.add(path);
    this.unfollow(entry);
    this.addCounters(entry.container.counters);
    entry.container.close();
    this.log.log('fail2ban.filter', LEVEL.INFO, `Removed logfile: ${pyReprString(path)}`);
    this.releaseDirWatch(dirname(path));
  }

  getLogPaths(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Follows every file matching `glob` (wildcards in the file name only), now and when one
   * appears later (noticed on directory events and every stat round). Files there now start as
   * `tail` says; later ones are new, so they are read from the start. A file removed with
   * `delLogPath` is not added again.
   */
  addLogPattern(glob: string, tail = false): string[] {
    const dir = dirname(glob);
    if (/[*?[]/.test(dir)) throw new LogPatternError(glob);
    const name = basename(glob);
    if (!/[*?[]/.test(name)) {
      this.addLogPath(glob, tail);
      return [glob];
    }
    const pattern: Pattern = { glob, dir, re: fnmatchRegExp(name), dotOk: name.startsWith('.') };
    this.patterns.push(pattern);
    const added = this.scanPattern(pattern, tail);
    if (this.running) this.watchDir(dir);
    return added;
  }

  private scanPattern(p: Pattern, tail: boolean): string[] {
    let names: string[];
    try {
      names = readdirSync(p.dir);
    } catch {
      return [];
    }
    const added: string[] = [];
    for (const name of names.sort()) {
      const path = join(p.dir, name);
      if (!p.re.test(name) || (name.startsWith('.') && !p.dotOk) || this.entries.has(path) || this.removed.has(path)) continue;
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) continue;
      try {
        this.addLogPath(path, tail);
        added.push(path);
      } catch (err) {
        this.log.log('fail2ban.filter', LEVEL.ERROR, `Unable to add logfile ${pyReprString(path)}: ${errorMessage(err)}`);
      }
    }
    return added;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextFlushAt = this.clock.nowMs() + (this.opts.positionFlushMs ?? 10_000);
    for (const p of this.patterns) this.watchDir(p.dir);
    for (const entry of this.entries.values()) this.follow(entry);
    const every = this.backend === 'polling' ? (this.opts.pollIntervalMs ?? 1000) : (this.opts.safetyPollMs ?? 3000);
    this.pollTimer = setInterval(() => this.pollRound(), every);
    this.pollTimer.unref();
  }

  /** Stops following: positions written, descriptors and watchers closed, files removed (as fail2ban's onStop). */
  stop(): void {
    this.running = false;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.flushPositions();
    for (const path of [...this.entries.keys()]) this.delLogPath(path);
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
  }

  /** Writes every pending position now. */
  flushPositions(): void {
    for (const entry of this.entries.values()) this.savePosition(entry);
    this.readsSinceFlush = 0;
    this.nextFlushAt = this.clock.nowMs() + (this.opts.positionFlushMs ?? 10_000);
  }

  /** Lines, bytes, rotations, decode errors and cut long lines, over all files (removed ones included). */
  counters(): ContainerCounters {
    const sum = { ...this.totals };
    for (const e of this.entries.values()) {
      for (const k of Object.keys(sum) as (keyof ContainerCounters)[]) sum[k] += e.container.counters[k];
    }
    return sum;
  }

  private addCounters(c: ContainerCounters): void {
    for (const k of Object.keys(this.totals) as (keyof ContainerCounters)[]) this.totals[k] += c[k];
  }

  private savePosition(entry: Entry): void {
    if (!entry.pending || !this.opts.positions) return;
    entry.pending = false;
    this.opts.positions.updateLog(this.opts.jail, entry.path, entry.container.getHash(), entry.container.getPos());
  }

  // ---- following -------------------------------------------------------------------------

  private follow(entry: Entry): void {
    if (this.backend === 'pyinotify') {
      this.watchDir(dirname(entry.path));
      this.syncFileWatchers(entry);
    }
    this.schedule(entry);
  }

  private unfollow(entry: Entry): void {
    for (const w of entry.watchers.values()) w.close();
    entry.watchers.clear();
    clearTimeout(entry.missingTimer);
    entry.missingTimer = undefined;
  }

  private schedule(entry: Entry): void {
    if (entry.scheduled || !this.running) return;
    entry.scheduled = true;
    setImmediate(() => {
      entry.scheduled = false;
      if (this.running && this.entries.get(entry.path) === entry) this.readNow(entry);
    });
  }

  private readNow(entry: Entry): void {
    const c = entry.container;
    if (entry.autoSeek) {
      entry.autoSeek = false;
      const seek = this.opts.initialSeek;
      if (seek) this.guard(entry, () => c.seekToTime(seek.startTime(), (l) => seek.dateOf(l)));
    }
    const inOperation = c.inOperation;
    const result = this.guard(entry, () => c.readLines(this.opts.readBytes ?? DEFAULT_READ_BYTES));
    if (!result) return;
    if (result.lines.length > 0) {
      try {
        this.opts.onLines(entry.path, result.lines, inOperation);
      } catch (err) {
        this.log.log('fail2ban.filter', LEVEL.ERROR, `Caught exception processing lines of ${entry.path}: ${errorMessage(err)}`);
      }
    }
    if (this.entries.get(entry.path) !== entry) return; // removed by the callback
    entry.pending = true;
    this.afterRead();
    this.noteMissing(entry, result.missing);
    if (this.backend === 'pyinotify') this.syncFileWatchers(entry);
    if (!result.atEof) this.schedule(entry);
  }

  private guard<T>(entry: Entry, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.log.log('fail2ban.filter', LEVEL.ERROR, `Unable to read ${entry.path}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  private afterRead(): void {
    this.readsSinceFlush++;
    const every = this.opts.positionFlushReads ?? 100;
    if (this.readsSinceFlush >= every || this.clock.nowMs() >= this.nextFlushAt) this.flushPositions();
  }

  /** Absence and presence messages, and (inotify) re-checks with back-off while the path is gone. */
  private noteMissing(entry: Entry, missing: boolean): void {
    if (missing && !entry.missing) {
      entry.missing = true;
      entry.missingDelayMs = MISSING_FIRST_MS;
      const level = this.backend === 'polling' ? LEVEL.DEBUG : LEVEL.MSG;
      this.log.log(this.backendLogger, level,
        `Log absence detected (possibly rotation) for ${entry.path}, reason: [Errno 2] No such file or directory: ${pyReprString(entry.path)}`);
    } else if (!missing && entry.missing) {
      entry.missing = false;
      clearTimeout(entry.missingTimer);
      entry.missingTimer = undefined;
      if (this.backend === 'pyinotify') this.log.log(this.backendLogger, LEVEL.MSG, `Log presence detected for file ${entry.path}`);
    }
    if (entry.missing && this.backend === 'pyinotify' && entry.missingTimer === undefined) {
      entry.missingTimer = setTimeout(() => {
        entry.missingTimer = undefined;
        this.schedule(entry);
      }, entry.missingDelayMs);
      entry.missingTimer.unref();
      entry.missingDelayMs = Math.min(entry.missingDelayMs * 2, MISSING_MAX_MS);
    }
  }

  /** A stat round: polling's main loop, inotify's safety net. Also picks up files matching patterns. */
  private pollRound(): void {
    if (!this.running) return;
    for (const p of this.patterns) this.scanPattern(p, false);
    for (const entry of this.entries.values()) {
      const st = statSync(entry.path, { bigint: true, throwIfNoEntry: false });
      const key = st ? `${st.mtimeNs}:${st.ino}:${st.size}` : '';
      const changed = key !== entry.prevStat;
      entry.prevStat = key;
      // A missing path or an old file still open (rotation) is read every round: nothing else tells.
      if (changed || !st || entry.container.openKeys().length > 1) this.schedule(entry);
    }
    if (this.clock.nowMs() >= this.nextFlushAt) this.flushPositions();
  }

  // ---- inotify ---------------------------------------------------------------------------

  private watchDir(dir: string): void {
    if (this.backend !== 'pyinotify' || this.dirWatchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => this.onDirEvent(dir, name === null ? null : String(name)));
      w.on('error', () => {
        w.close();
        this.dirWatchers.delete(dir);
      });
      this.dirWatchers.set(dir, w);
    } catch {
      // The directory is gone: the stat rounds still look.
    }
  }

  private releaseDirWatch(dir: string): void {
    const used = [...this.entries.keys()].some((p) => dirname(p) === dir) || this.patterns.some((p) => p.dir === dir);
    if (used) return;
    this.dirWatchers.get(dir)?.close();
    this.dirWatchers.delete(dir);
  }

  private onDirEvent(dir: string, name: string | null): void {
    if (!this.running) return;
    for (const entry of this.entries.values()) {
      if (dirname(entry.path) === dir && (name === null || basename(entry.path) === name)) this.schedule(entry);
    }
    for (const p of this.patterns) {
      if (p.dir === dir && (name === null || p.re.test(name))) this.scanPattern(p, false);
    }
  }

  /** One watcher per open descriptor: the current file by path, old ones of a rotation kept until closed. */
  private syncFileWatchers(entry: Entry): void {
    const keys = entry.container.openKeys();
    for (const [key, w] of entry.watchers) {
      if (!keys.includes(key)) {
        w.close();
        entry.watchers.delete(key);
      }
    }
    const mainKey = keys[keys.length - 1];
    if (mainKey === undefined || entry.watchers.has(mainKey) || entry.missing) return;
    try {
      const w = watch(entry.path, { persistent: true }, () => this.schedule(entry));
      w.on('error', () => {
        w.close();
        if (entry.watchers.get(mainKey) === w) entry.watchers.delete(mainKey);
      });
      entry.watchers.set(mainKey, w);
    } catch {
      // Gone again: the directory watcher and the stat rounds notice its return.
    }
  }
}
