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
 *
 * This file owns `ServerLogger` (level, target switching, flushlogs); the parts: logFormat
 * (levels, formats), logSinks (stream, file), logChildSinks (syslog, journal).
 */
import { extractOptions, OptionSyntaxError } from '../config/options.js';
import { existsSync, statSync } from 'node:fs';
import { formatLogTime } from '../shared/logline.js';
import { pyAsBool } from '../shared/pyvalue.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import { FACILITIES, JournalSink, SyslogSink } from './logChildSinks.js';
import { formatRecord, levelName, str2LogLevel, verbosityFormat } from './logFormat.js';
import { FileSink, Failures, StreamSink, type Sink, type TextSink } from './logSinks.js';

export { LogLevelError, formatRecord, levelName, str2LogLevel, verbosityFormat } from './logFormat.js';
export type { TextSink } from './logSinks.js';

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

/** `NAME[k=v, k2="v 2"]` → name and options (fail2ban's `extractOptions`); a malformed target is all name. */
export function splitTargetOptions(target: string): { name: string; options: Map<string, string> } {
  try {
    return extractOptions(target);
  } catch (e) {
    if (e instanceof OptionSyntaxError) return { name: target, options: new Map() };
    throw e;
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
    const addtime = options.has('datetime') ? pyAsBool(options.get('datetime') ?? '') : sys !== 'SYSLOG' && sys !== 'SYSOUT';
    const padding = pyAsBool(options.get('padding') ?? (sys === 'SYSLOG' ? '0' : '1'));
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
