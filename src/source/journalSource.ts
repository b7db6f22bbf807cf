/**
 * The systemd journal as a log source (`backend = systemd`, runtime spec §5.4): `journalctl
 * --follow --output=json` with the jail's matches, started after the stored cursor or at
 * `max(stored time, now - findtime)`, its entries turned into fail2ban's lines and handed over in
 * batches of at most 100 with the jail's inOperation state (§1.4). journalctl runs without a shell;
 * when it exits it is started again (with back-off) after the last entry delivered.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

import { errorMessage } from '../shared/errors.js';
import type { Clock } from '../system/clock.js';
import { SystemClock } from '../system/clock.js';
import { LEVEL, NULL_LOG } from '../system/log.js';
import type { ServerLog } from '../system/log.js';
import {
  formatJournalEntry,
  journalFollowArgs,
  journalLastEntryArgs,
  journalMatchGroups,
  journalMatchText,
  journalSelectionArgs,
  journalStart,
  UTF8_REPLACE,
} from './journalArgs.js';
import type { BytesDecoder, JournalLine, JournalOptions, JournalSelection, JournalStart } from './journalArgs.js';

const LOGGER = 'fail2ban.filtersystemd';

/** The DB row of the journal (`logs` with path `systemd-journal`), as a port. */
export interface JournalPositionStore {
  getJournalPosition(jail: string): { cursor?: string; time: number } | undefined;
  /**
   * `dbIsoText` is exactly what fail2ban writes into `firstlinemd5`: the ISO date of the last
   * entry followed by one space; `time` goes to `lastfilepos` (float seconds).
   */
  saveJournalPosition(jail: string, cursor: string | undefined, dbIsoText: string, time: number): void;
}

/** One delivered entry. */
export interface JournalSourceEntry {
  readonly line: string;
  readonly time: number;
  /** The date text fail2ban passes to the filter in front of the line (`isoDate + ' '` there). */
  readonly isoDate: string;
}

export interface JournalSourceOptions {
  readonly jail: string;
  readonly journal: JournalOptions;
  /** The jail's `journalmatch` lines, each split into tokens. */
  readonly journalmatch: ReadonlyArray<readonly string[]>;
  /** findtime in seconds. */
  readonly findtime: number;
  readonly onLines: (entries: readonly JournalSourceEntry[], inOperation: boolean) => void;
  readonly store?: JournalPositionStore;
  readonly log?: ServerLog;
  readonly clock?: Clock;
  /** The journalctl executable (default `journalctl`, found on PATH). */
  readonly command?: string;
  /** Directory relative `journalfiles` are resolved against (default: the process's). */
  readonly cwd?: string;
  /** Local UTC offset in seconds east, fixed for the source's life (default: the current one). */
  readonly utcOffsetSeconds?: number;
  readonly decode?: BytesDecoder;
  readonly defaultFlags?: number;
  /** Longest stdout line accepted (bytes); longer ones are counted and skipped. Default 16 MiB. */
  readonly maxLineBytes?: number;
  readonly batchSize?: number;
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** At most this long between position saves while entries arrive (fail2ban: 10 s). */
  readonly saveIntervalMs?: number;
}

export interface JournalSourceStats {
  /** Entries delivered. */
  readonly delivered: number;
  /** stdout lines that were not a journal entry (not JSON, not an object, no timestamp). */
  readonly malformed: number;
  /** stdout lines longer than `maxLineBytes`. */
  readonly oversized: number;
  /** Times journalctl was started again after it exited. */
  readonly restarts: number;
}

interface StartupTail {
  readonly cursor: string | undefined;
  readonly realtimeUs: bigint;
}

/** Splits a byte stream into lines with a cap; oversized lines are dropped up to their newline. */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly max: number,
    private readonly onLine: (line: Buffer) => void,
    private readonly onOversized: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.skipping) {
        if (this.size + (end - start) > this.max) {
          this.skipping = true;
          this.parts = [];
          this.size = 0;
          this.onOversized();
        } else if (end > start) {
          this.parts.push(chunk.subarray(start, end));
          this.size += end - start;
        }
      }
      if (nl < 0) return;
      if (!this.skipping) {
        const line = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
        this.parts = [];
        this.size = 0;
        this.onLine(line);
      }
      this.skipping = false;
      start = nl + 1;
    }
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.skipping = false;
  }
}

export class JournalSource {
  private readonly log: ServerLog;
  private readonly clock: Clock;
  private readonly command: string;
  private groups: string[][];
  private readonly selection: JournalSelection;
  private readonly utcOffset: number;
  private readonly decode: BytesDecoder;
  private readonly batchSize: number;
  private readonly maxLineBytes: number;
  private readonly splitter: LineSplitter;

  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private childExit: Promise<void> | undefined;
  private running = false;
  private startAt: JournalStart | undefined;
  private probe: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private tail: StartupTail | undefined;
  private operating = false;
  private batch: JournalSourceEntry[] = [];
  private batchOperating = false;
  private last: JournalLine | undefined;
  private pendingSave = false;
  private sinceSave = 0;
  private lastSaveMs = -Infinity;
  private saveTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelay: number;
  private linesThisRun = 0;
  private lastStderr = '';
  private counts = { delivered: 0, malformed: 0, oversized: 0, restarts: 0 };

  /** Throws `JournalMatchError` for a `journalmatch` token sd-journal would refuse. */
  constructor(private readonly opts: JournalSourceOptions) {
    this.log = opts.log ?? NULL_LOG;
    this.clock = opts.clock ?? new SystemClock();
    this.command = opts.command ?? 'journalctl';
    this.groups = journalMatchGroups(opts.journalmatch);
    this.selection = journalSelectionArgs(opts.journal, opts.cwd ?? process.cwd(), opts.defaultFlags);
    this.utcOffset = opts.utcOffsetSeconds ?? -new Date(this.clock.nowMs()).getTimezoneOffset() * 60;
    this.decode = opts.decode ?? UTF8_REPLACE;
    this.batchSize = Math.max(1, opts.batchSize ?? 100);
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024 * 1024;
    this.restartDelay = opts.restartDelayMs ?? 1000;
    this.splitter = new LineSplitter(this.maxLineBytes, (l) => this.onStdoutLine(l), () => this.counts.oversized++);
  }

  /** The matches as fail2ban's status shows them (`Journal matches`). */
  get matchText(): string {
    return journalMatchText(this.groups);
  }

  get inOperation(): boolean {
    return this.operating;
  }

  stats(): JournalSourceStats {
    return { ...this.counts };
  }

  /** Flags the configuration asked for that journalctl cannot express. */
  get unmappedOptions(): readonly string[] {
    return this.selection.unmapped;
  }

  /**
   * New `journalmatch` lines while running (fail2ban changes the reader's matches at once): the
   * running journalctl is replaced by one with the new matches that goes on after the last entry
   * delivered. Throws `JournalMatchError` (and keeps the old matches) for a token sd-journal refuses.
   */
  setMatches(journalmatch: ReadonlyArray<readonly string[]>): void {
    this.groups = journalMatchGroups(journalmatch);
    const child = this.child;
    // Not following yet (start() is probing) or waiting for a restart: the next spawn takes the new matches.
    if (!this.running || child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    child.kill('SIGKILL');
    this.flushBatch();
    const cursor = this.last?.cursor;
    this.spawnReader(cursor !== undefined ? { kind: 'cursor', cursor } : (this.startAt ?? { kind: 'since', time: this.clock.nowMs() / 1000, after: true }));
  }

  /** Finds the last entry, decides the start and starts following. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const jail = this.opts.jail;
    if (this.groups.length === 0) {
      this.log.log(LOGGER, LEVEL.NOTICE, `[${jail}] Jail started without 'journalmatch' set. Jail regexs will be checked against all journal entries, which is not advised for performance reasons.`);
    }
    for (const note of this.selection.unmapped) this.log.log(LOGGER, LEVEL.WARNING, `[${jail}] journal option not supported: ${note}`);
    this.tail = await this.probeTail();
    if (!this.running) return;
    const nowSec = this.clock.nowMs() / 1000;
    if (this.tail === undefined) {
      this.switchToOperation();
      this.startAt = { kind: 'since', time: nowSec, after: true };
    } else {
      const start = journalStart(this.opts.store?.getJournalPosition(jail), nowSec, this.opts.findtime);
      // As fail2ban: entries after the start time, not at it (the last entry read before a restart is not read again).
      this.startAt = start.kind === 'since' ? { ...start, after: true } : start;
      this.operating = false;
      const nothingToRead =
        (this.startAt.kind === 'cursor' && this.startAt.cursor === this.tail.cursor) ||
        (this.startAt.kind === 'since' && this.tail.realtimeUs <= BigInt(Math.floor(this.startAt.time * 1e6)));
      if (nothingToRead) this.switchToOperation();
    }
    this.spawnReader(this.startAt);
  }

  /**
   * Stops journalctl and saves the position: what was delivered at once (before the first await,
   * so a caller that closes the store right after calling stop() still gets it), and again after
   * journalctl exited in case it delivered more.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.probe?.kill('SIGKILL');
    clearTimeout(this.restartTimer);
    clearTimeout(this.saveTimer);
    this.flushBatch();
    this.savePosition();
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.kill('SIGTERM');
      await this.childExit;
      clearTimeout(killTimer);
    }
    this.flushBatch();
    this.savePosition();
  }

  private async probeTail(): Promise<StartupTail | undefined> {
    const args = journalLastEntryArgs(this.selection, this.groups);
    const out = await new Promise<{ stdout: string; ok: boolean; err: string }>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let err = '';
      const p = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.probe = p;
      p.stdout.on('data', (b: Buffer) => {
        if (size <= this.maxLineBytes) chunks.push(b);
        size += b.length;
      });
      p.stderr.on('data', (b: Buffer) => {
        err = (err + b.toString('utf8')).slice(-4096);
      });
      const finish = (ok: boolean): void => {
        this.probe = undefined;
        resolve({ stdout: Buffer.concat(chunks).toString('utf8'), ok, err });
      };
      p.on('error', (e) => {
        err = errorMessage(e);
        finish(false);
      });
      p.on('close', (code) => finish(code === 0));
    });
    if (!out.ok) {
      this.log.log(LOGGER, LEVEL.ERROR, `[${this.opts.jail}] Error reading line from systemd journal: ${lastLine(out.err)}`);
      return undefined;
    }
    for (const text of out.stdout.split('\n').reverse()) {
      const entry = parseEntry(text);
      if (entry === undefined) continue;
      const line = formatJournalEntry(entry, { utcOffsetSeconds: this.utcOffset, decode: this.decode });
      if (line !== undefined) return { cursor: line.cursor, realtimeUs: line.realtimeUs };
    }
    return undefined;
  }

  private spawnReader(start: JournalStart): void {
    const args = journalFollowArgs(this.selection, this.groups, start);
    this.splitter.reset();
    this.linesThisRun = 0;
    this.lastStderr = '';
    const child = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let done = false;
    this.childExit = new Promise<void>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
        if (done) return;
        done = true;
        resolve();
        if (this.child === child) this.onReaderExit(code, signal, error);
      };
      child.on('error', (e) => finish(null, null, errorMessage(e)));
      child.on('close', (code, signal) => finish(code, signal));
    });
    child.stdout.on('data', (b: Buffer) => {
      if (this.child !== child) return; // replaced by setMatches()
      this.splitter.push(b);
      this.flushBatch();
    });
    child.stderr.on('data', (b: Buffer) => {
      if (this.child !== child) return;
      this.lastStderr = (this.lastStderr + b.toString('utf8')).slice(-4096);
    });
  }

  private onReaderExit(code: number | null, signal: NodeJS.Signals | null, error: string | undefined): void {
    this.flushBatch();
    if (!this.running) return;
    const why = error ?? lastLine(this.lastStderr);
    const status = signal !== null ? `signal ${signal}` : `code ${code}`;
    this.log.log(LOGGER, LEVEL.ERROR, `[${this.opts.jail}] journalctl exited (${status})${why !== '' ? `: ${why}` : ''}`);
    if (this.linesThisRun > 0) this.restartDelay = this.opts.restartDelayMs ?? 1000;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.opts.maxRestartDelayMs ?? 60000);
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.counts.restarts++;
      const cursor = this.last?.cursor;
      this.spawnReader(cursor !== undefined ? { kind: 'cursor', cursor } : (this.startAt ?? { kind: 'since', time: this.clock.nowMs() / 1000 }));
    }, delay);
  }

  private onStdoutLine(bytes: Buffer): void {
    this.linesThisRun++;
    if (bytes.length === 0) return;
    const entry = parseEntry(bytes.toString('utf8'));
    const line = entry === undefined ? undefined : formatJournalEntry(entry, { utcOffsetSeconds: this.utcOffset, decode: this.decode });
    if (line === undefined) {
      this.counts.malformed++;
      return;
    }
    let switchAfter = false;
    if (!this.operating) {
      const nowSec = this.clock.nowMs() / 1000;
      const tail = this.tail;
      if (line.time >= nowSec - 1 || (tail !== undefined && line.realtimeUs > tail.realtimeUs)) this.switchToOperation();
      else if (tail !== undefined && line.cursor !== undefined && line.cursor === tail.cursor) switchAfter = true;
    }
    this.add(line);
    if (switchAfter) this.switchToOperation();
  }

  private add(line: JournalLine): void {
    if (this.batch.length > 0 && (this.batchOperating !== this.operating || this.batch.length >= this.batchSize)) this.flushBatch();
    if (this.batch.length === 0) this.batchOperating = this.operating;
    this.batch.push({ line: line.line, time: line.time, isoDate: line.isoDate });
    this.last = line;
  }

  private switchToOperation(): void {
    if (this.operating) return;
    this.flushBatch();
    this.operating = true;
    this.log.log(LOGGER, LEVEL.INFO, `[${this.opts.jail}] Jail is in operation now (process new journal entries)`);
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const entries = this.batch;
    this.batch = [];
    this.counts.delivered += entries.length;
    this.sinceSave += entries.length;
    this.pendingSave = true;
    try {
      this.opts.onLines(entries, this.batchOperating);
    } catch (e) {
      this.log.log(LOGGER, LEVEL.ERROR, `[${this.opts.jail}] Caught unhandled exception in main cycle: ${errorMessage(e)}`);
    }
    const interval = this.opts.saveIntervalMs ?? 10000;
    if (this.sinceSave >= 100 || this.clock.nowMs() - this.lastSaveMs >= interval) this.savePosition();
    else if (this.saveTimer === undefined && this.running) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        this.savePosition();
      }, interval);
      this.saveTimer.unref();
    }
  }

  private savePosition(): void {
    const last = this.last;
    if (!this.pendingSave || last === undefined || this.opts.store === undefined) return;
    this.pendingSave = false;
    this.sinceSave = 0;
    this.lastSaveMs = this.clock.nowMs();
    try {
      this.opts.store.saveJournalPosition(this.opts.jail, last.cursor, last.isoDate + ' ', last.time);
    } catch (e) {
      this.log.log(LOGGER, LEVEL.ERROR, `[${this.opts.jail}] Could not save the journal position: ${errorMessage(e)}`);
    }
  }
}

function parseEntry(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}
