/**
 * The server's own log (fail2ban.conf `loglevel` / `logtarget` / `syslogsocket`, spec §8): the
 * `ServerLog` port's real implementation. Targets as fail2ban's `Server.setLogTarget`: STDOUT,
 * STDERR, SYSOUT (stdout without time), a file (append, mode 0600, reopened by `flushlogs` /
 * SIGUSR1 so logrotate works), `SYSLOG[facility=…,format=…]` and `SYSTEMD-JOURNAL`.
 *
 * Writing never throws into callers: a failed write is counted and its error remembered. Lines are
 * collected during one turn of the event loop and written together right after it, so a ban line
 * reaches the file (which the `recidive` jail follows) within milliseconds.
 *
 * Node cannot send unix datagrams, and rsyslogd/journald listen on /dev/log as SOCK_DGRAM, so the
 * SYSLOG target goes through long-lived util-linux `logger` children (one per logger name, since
 * `logger` puts its own `TAG[PID]:` header on every line: tag = `fail2ban.actions`, id = our pid,
 * priority per line via `--prio-prefix`). rsyslog then stores the same line as for fail2ban's
 * SysLogHandler. SYSTEMD-JOURNAL goes through `systemd-cat -t fail2ban --level-prefix=true`.
 */
import { extractOptions, OptionSyntaxError } from '../config/options.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { PortcullisError } from '../shared/errors.js';
import { formatLogTime } from '../shared/logline.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { LEVEL, type ServerLog } from '../system/log.js';

/** A level fail2ban's `str2LogLevel` refuses; the message is fail2ban's. */
export class LogLevelError extends PortcullisError {
  constructor(value: string) {
    super('E_LOGLEVEL', `Invalid log level '${value}'`);
  }
}

/** Where plain text goes (process.stdout / process.stderr in the daemon, buffers in tests). */
export interface TextSink {
  write(text: string): unknown;
}

export interface ServerLoggerOptions {
  readonly pid: number;
  /** Milliseconds since the epoch (the line's time). */
  readonly now?: () => number;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** `-vv`/`-vvv` of fail2ban-server (verbose > 2 switches the default format). */
  readonly verbose?: number;
  /** The `logger` executable for the SYSLOG target (util-linux). */
  readonly loggerCommand?: string;
  /** The `systemd-cat` executable and journald's stream socket, for SYSTEMD-JOURNAL. */
  readonly systemdCat?: string;
  readonly journalSocket?: string;
}

const LEVEL_NAMES = new Map<number, string>([
  [50, 'CRITICAL'], [40, 'ERROR'], [30, 'WARNING'], [25, 'NOTICE'], [20, 'INFO'], [18, 'MSG'], [10, 'DEBUG'], [7, 'TRACE'], [5, 'HEAVY'], [0, 'NOTSET'],
]);
const LEVEL_WORDS = new Map<string, number>([...Object.entries(LEVEL), ['WARN', 30], ['FATAL', 50], ['NOTSET', 0]]);

/** Python logging's level name as fail2ban sets them up (`#15-Lev.` for unnamed levels below 50). */
export function levelName(level: number): string {
  return LEVEL_NAMES.get(level) ?? (level > 0 && level < 50 ? `#${String(level).padStart(2, '0')}-Lev.` : `Level ${level}`);
}

/** fail2ban's `str2LogLevel`: digits as a number, else a level name (any case). Throws LogLevelError. */
export function str2LogLevel(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const level = LEVEL_WORDS.get(value.toUpperCase());
  if (level === undefined) throw new LogLevelError(value);
  return level;
}

const FACILITIES = new Map<string, number>([
  ['KERN', 0], ['USER', 1], ['MAIL', 2], ['DAEMON', 3], ['AUTH', 4], ['SYSLOG', 5], ['LPR', 6], ['NEWS', 7], ['UUCP', 8],
  ['CRON', 9], ['AUTHPRIV', 10], ['FTP', 11], ['NTP', 12], ['SECURITY', 13], ['CONSOLE', 14], ['SOLARIS_CRON', 15],
  ...Array.from({ length: 8 }, (_v, i) => [`LOCAL${i}`, 16 + i] as [string, number]),
  // SysLogHandler's priority constants are LOG_* attributes too, so fail2ban accepts them as facilities.
  ['EMERG', 0], ['ALERT', 1], ['CRIT', 2], ['ERR', 3], ['WARNING', 4], ['NOTICE', 5], ['INFO', 6], ['DEBUG', 7],
]);
const SYSLOG_PRIORITY: Readonly<Record<string, number>> = { DEBUG: 7, INFO: 6, NOTICE: 5, WARNING: 4, ERROR: 3, CRITICAL: 2 };

/** `NAME[k=v, k2="v 2"]` → name and options (fail2ban's `extractOptions`); a malformed target is all name. */
export function splitTargetOptions(target: string): { name: string; options: Map<string, string> } {
  try {
    return extractOptions(target);
  } catch (e) {
    if (e instanceof OptionSyntaxError) return { name: target, options: new Map() };
    throw e;
  }
}

/** The record fields a `%(…)` format may use. */
interface LogRecordFields {
  readonly [key: string]: string | number;
}

/** Python's `%`-style record formatting: `%(name)-24s`, `%(process)d`, `%(thread)X`, `%(levelname)-5.5s`. */
export function formatRecord(fmt: string, rec: LogRecordFields): string {
  return fmt.replace(/%\((\w+)\)(-?)(\d*)(?:\.(\d+))?([sdX])|%%/g, (all, key: string | undefined, left: string, width: string, prec: string | undefined, conv: string) => {
    if (all === '%%') return '%';
    const v = rec[key ?? ''] ?? '';
    let text = conv === 'd' ? String(Math.trunc(Number(v))) : conv === 'X' ? Number(v).toString(16).toUpperCase() : String(v);
    if (prec !== undefined && conv === 's') text = text.slice(0, Number(prec));
    const w = Number(width || '0');
    return left === '-' ? text.padEnd(w) : text.padStart(w);
  });
}

/** fail2ban's `getVerbosityFormat`. */
export function verbosityFormat(verbosity: number, addtime: boolean, padding: boolean): string {
  let fmt = ' %(message)s';
  if (verbosity > 1) {
    if (verbosity > 3) fmt = ' | %(module)15.15s-%(levelno)-2d: %(funcName)-20.20s |' + fmt;
    if (verbosity > 2) fmt = ' +%(relativeCreated)5d %(thread)X %(name)-25.25s %(levelname)-5.5s' + fmt;
    else {
      fmt = ' %(thread)X %(levelname)-5.5s' + fmt;
      if (addtime) fmt = ' %(asctime)-15s' + fmt;
    }
  } else {
    fmt = '%(name)-24s[%(process)d]: %(levelname)-7s' + fmt;
    if (addtime) fmt = '%(asctime)s ' + fmt;
  }
  return padding ? fmt : fmt.replace(/(?<=\))-?\d+(?:\.\d+)?s/g, 's');
}

const asBool = (v: string): boolean => ['1', 'on', 'true', 'yes'].includes(v.toLowerCase());

/** One open target. `write` gets a formatted line without newline. */
interface Sink {
  write(line: string, level: number, name: string): void;
  flush(): void;
  /** Close and reopen (files); false if the target has nothing to reopen. */
  reopen(): boolean;
  close(): void;
}

/** Counts what could not be written, never throws. */
class Failures {
  dropped = 0;
  lastError: Error | undefined;

  record(err: unknown, lines: number): void {
    this.dropped += lines;
    this.lastError = err instanceof Error ? err : new Error(String(err));
  }
}

/** Lines collected during one event-loop turn, written together right after it. */
class Batcher {
  private pending: string[] = [];
  private scheduled = false;

  constructor(private readonly emit: (text: string, lines: number) => void) {}

  push(line: string): void {
    this.pending.push(line + '\n');
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.emit(lines.join(''), lines.length);
  }
}

class StreamSink implements Sink {
  private readonly batch: Batcher;
  constructor(stream: TextSink, failures: Failures) {
    this.batch = new Batcher((text, n) => {
      try {
        stream.write(text);
      } catch (e) {
        failures.record(e, n);
      }
    });
  }
  write(line: string): void {
    this.batch.push(line);
  }
  flush(): void {
    this.batch.flush();
  }
  reopen(): boolean {
    this.flush();
    return false;
  }
  close(): void {
    this.flush();
  }
}

class FileSink implements Sink {
  private fd: number | undefined;
  private readonly batch: Batcher;

  constructor(
    private readonly path: string,
    private readonly failures: Failures,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.batch = new Batcher((text, n) => this.emit(text, n));
  }

  private emit(text: string, lines: number): void {
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    } catch (e) {
      this.failures.record(e, lines);
    }
  }

  write(line: string): void {
    this.batch.push(line);
  }
  flush(): void {
    this.batch.flush();
  }
  reopen(): boolean {
    this.flush();
    this.closeFd();
    try {
      this.fd = openSync(this.path, 'a', 0o600);
    } catch (e) {
      // Retried on the next write; until then lines are counted as dropped.
      this.failures.record(e, 0);
    }
    return true;
  }
  close(): void {
    this.flush();
    this.closeFd();
  }
  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch (e) {
      this.failures.record(e, 0);
    }
    this.fd = undefined;
  }
}

/** Children fed one line at a time; a child that dies or cannot be started costs its lines, nothing more. */
class ChildLines {
  private child: ChildProcess | undefined;
  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly failures: Failures,
  ) {}

  write(text: string): void {
    try {
      if (this.child?.stdin?.writable !== true) this.child = this.start();
      this.child.stdin?.write(text);
    } catch (e) {
      this.failures.record(e, 1);
    }
  }

  private start(): ChildProcess {
    const child = spawn(this.command, this.args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (e) => this.failures.record(e, 1));
    child.stdin?.on('error', (e) => this.failures.record(e, 1));
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }
}

class SyslogSink implements Sink {
  private readonly children = new Map<string, ChildLines>();
  constructor(
    private readonly socket: string,
    private readonly facility: number,
    private readonly command: string,
    private readonly failures: Failures,
  ) {}

  write(line: string, level: number): void {
    const prio = (this.facility << 3) | (SYSLOG_PRIORITY[levelName(level)] ?? 4);
    // `logger` writes `<PRI>TIME TAG[ID]: MSG`; fail2ban's `name[pid]: ` header becomes TAG[ID].
    const head = /^([^\s[\]]+)\[(\d+)\]: /.exec(line);
    const tag = head?.[1] ?? 'fail2ban';
    const key = head === null ? tag : `${tag}[${head[2]}]`;
    let child = this.children.get(key);
    if (child === undefined) {
      const args = ['--socket', this.socket, '--socket-errors=off', '--prio-prefix', '--tag', tag, ...(head === null ? [] : [`--id=${head[2]}`])];
      child = new ChildLines(this.command, args, this.failures);
      this.children.set(key, child);
    }
    child.write(`<${prio}>${head === null ? line : line.slice(head[0].length)}`.replace(/\n/g, ' ') + '\n');
  }
  flush(): void {}
  reopen(): boolean {
    return false;
  }
  close(): void {
    for (const c of this.children.values()) c.close();
    this.children.clear();
  }
}

class JournalSink implements Sink {
  private readonly child: ChildLines;
  constructor(command: string, failures: Failures) {
    this.child = new ChildLines(command, ['-t', 'fail2ban', '--level-prefix=true'], failures);
  }
  write(line: string, level: number): void {
    this.child.write(`<${SYSLOG_PRIORITY[levelName(level)] ?? 4}>${line.replace(/\n/g, ' ')}\n`);
  }
  flush(): void {}
  reopen(): boolean {
    return false;
  }
  close(): void {
    this.child.close();
  }
}

const RESERVED = ['STDOUT', 'STDERR', 'SYSOUT', 'SYSLOG', 'SYSTEMD-JOURNAL'];

/** The daemon's `ServerLog`: level, target and format as fail2ban's server sets them. */
export class ServerLogger implements ServerLog {
  private levelNo: number = LEVEL.INFO;
  private levelText = 'INFO';
  private targetName: string | undefined;
  private socketPath = 'auto';
  private sink: Sink | undefined;
  private format = verbosityFormat(0, true, true);
  private readonly failures = new Failures();
  private readonly now: () => number;
  private readonly started: number;

  constructor(private readonly opts: ServerLoggerOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  /** Lines that could not be written, and the last error (a full disk, a closed pipe …). */
  get droppedLines(): number {
    return this.failures.dropped;
  }
  get lastError(): Error | undefined {
    return this.failures.lastError;
  }

  isEnabledFor(level: number): boolean {
    return level >= this.levelNo;
  }

  log(name: string, level: number, message: string): void {
    if (level < this.levelNo || this.sink === undefined) return;
    try {
      const ms = this.now();
      const line = formatRecord(this.format, {
        asctime: formatLogTime(ms), name, process: this.opts.pid, levelname: levelName(level), levelno: level, message,
        thread: this.opts.pid, relativeCreated: ms - this.started, module: name.replace(/^.*\./, ''), funcName: '', created: ms / 1000,
      });
      this.sink.write(line, level, name);
    } catch (e) {
      this.failures.record(e, 1);
    }
  }

  /** `set loglevel`: stored upper-cased as given (`get loglevel` returns it). Throws LogLevelError. */
  setLevel(value: string): void {
    const upper = value.toUpperCase();
    if (upper === this.levelText) return;
    this.levelNo = str2LogLevel(upper);
    this.levelText = upper;
  }

  get level(): string {
    return this.levelText;
  }

  /** The target as `get logtarget` shows it (without `[options]`); undefined before the first setTarget. */
  get target(): string | undefined {
    return this.targetName;
  }

  get syslogSocket(): string {
    return this.socketPath;
  }

  /** `set syslogsocket`; re-applies a SYSLOG target as fail2ban does. */
  setSyslogSocket(path: string): boolean {
    if (this.socketPath === path) return true;
    this.socketPath = path;
    return this.targetName !== 'SYSLOG' || this.setTarget(this.targetName);
  }

  /**
   * `set logtarget`: false (with fail2ban's error logged to the old target) when the new one cannot
   * be opened. After a change, `Start Fail2ban v…` and `Changed logging target to …` go to the new target.
   */
  setTarget(target: string): boolean {
    const { name, options } = splitTargetOptions(target);
    const sys = name.toUpperCase();
    if (this.targetName === name) return true;
    const opened = this.open(name, sys, options);
    if (opened === undefined) return false;
    this.sink?.close();
    this.sink = opened;
    const addtime = options.has('datetime') ? asBool(options.get('datetime') ?? '') : sys !== 'SYSLOG' && sys !== 'SYSOUT';
    const padding = asBool(options.get('padding') ?? (sys === 'SYSLOG' ? '0' : '1'));
    const verbose = (this.opts.verbose ?? 0) > 2 ? (this.opts.verbose ?? 0) - 1 : 0;
    this.format = (options.get('format') ?? '') !== '' ? (options.get('format') ?? '') : verbosityFormat(verbose, addtime, padding);
    if (this.targetName !== undefined) {
      this.log('fail2ban.server', LEVEL.INFO, `Start Fail2ban v${FAIL2BAN_VERSION}`);
      const shown = name === 'SYSLOG' ? `${name} (${this.socketPath})` : name;
      this.log('fail2ban.server', LEVEL.INFO, `Changed logging target to ${shown} for Fail2ban v${FAIL2BAN_VERSION}`);
    }
    this.targetName = name;
    return true;
  }

  private open(name: string, sys: string, options: ReadonlyMap<string, string>): Sink | undefined {
    switch (sys) {
      case 'STDOUT':
      case 'SYSOUT':
        return new StreamSink(this.opts.stdout, this.failures);
      case 'STDERR':
        return new StreamSink(this.opts.stderr, this.failures);
      case 'SYSLOG':
        return this.openSyslog(options);
      case 'SYSTEMD-JOURNAL': {
        const socket = this.opts.journalSocket ?? '/run/systemd/journal/stdout';
        if (!existsSync(socket)) {
          this.log('fail2ban.server', LEVEL.ERROR, `Unable to log to 'SYSTEMD-JOURNAL': journald is not running (no ${socket})`);
          return undefined;
        }
        return new JournalSink(this.opts.systemdCat ?? 'systemd-cat', this.failures);
      }
      default:
        try {
          return new FileSink(name, this.failures);
        } catch {
          this.log('fail2ban.server', LEVEL.ERROR, `Unable to log to ${pyQuote(name)}`);
          this.log('fail2ban.server', LEVEL.INFO, `Logging to previous target ${this.targetName === undefined ? 'None' : pyQuote(this.targetName)}`);
          return undefined;
        }
    }
  }

  private openSyslog(options: ReadonlyMap<string, string>): Sink | undefined {
    const given = options.get('facility') ?? 'DAEMON';
    let facility = FACILITIES.get(given.toUpperCase());
    if (facility === undefined) {
      this.log('fail2ban.server', LEVEL.ERROR, `Unable to set facility ${pyQuote(given)}, using 'DAEMON'`);
      facility = 3;
    }
    if (this.socketPath === 'auto') this.socketPath = '/dev/log';
    let isSocket = false;
    try {
      isSocket = statSync(this.socketPath).isSocket();
    } catch {
      isSocket = false;
    }
    if (!isSocket) {
      this.log('fail2ban.server', LEVEL.ERROR, `Syslog socket file: ${this.socketPath} does not exists or is not a socket`);
      return undefined;
    }
    return new SyslogSink(this.socketPath, facility, this.opts.loggerCommand ?? 'logger', this.failures);
  }

  /** `flushlogs` / SIGUSR1: files are closed and reopened (`rolled over`), other targets flushed. */
  flushLogs(): 'rolled over' | 'flushed' {
    const target = this.targetName ?? 'None';
    if (!RESERVED.includes(target) || target === 'SYSOUT') {
      const reopened = this.sink?.reopen() ?? false;
      this.log('fail2ban.server', LEVEL.INFO, `${reopened ? 'rollover' : 'flush'} performed on ${target}`);
      return 'rolled over';
    }
    this.sink?.flush();
    this.log('fail2ban.server', LEVEL.INFO, `flush performed on ${target}`);
    return 'flushed';
  }

  /** Writes what is pending now (before exit or in tests). */
  flush(): void {
    this.sink?.flush();
  }

  /** Flushes and closes the target. */
  close(): void {
    this.sink?.close();
    this.sink = undefined;
  }
}

/** Python's repr of a str (enough for paths and option values in messages). */
function pyQuote(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
